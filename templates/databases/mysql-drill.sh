#!/bin/sh
# A restore drill: the latest dump loaded into a scratch database (as the owner, as a restore
# would), the catalog's check query run there in a read-only transaction, how long the restore
# took and how old the data was logged; the scratch database is dropped whatever happened.
set -eu
. "${SCRIPTS:-/scripts}/mysql-client.sh"
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/drill-report.sh"
# shellcheck disable=SC2046 # the connection options are words on purpose
admin() { MYSQL_PWD="$DB_ADMIN_PASSWORD" mariadb $(mariadb_options) --batch --user="$DB_ADMIN_USER" "$@"; }
# shellcheck disable=SC2046
owner() { MYSQL_PWD="$DB_PASSWORD" mariadb $(mariadb_options) --batch --user="$DB_OWNER" "$DRILL_DATABASE" "$@"; }
cleanup() {
  admin < "${SCRIPTS:-/scripts}/drill-cleanup.sql" || echo "could not drop $DRILL_DATABASE" >&2
  rm -f "${TMPDIR:-/tmp}/restore${DUMP_SUFFIX:-.sql.gz}"
}
trap cleanup EXIT
started=$(date +%s)
file=$(fetch_dump)
admin < "${SCRIPTS:-/scripts}/drill-setup.sql"
gunzip -c "$file" | owner
restored=$(date +%s)
result=$({ echo "SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY;"; cat "${SCRIPTS:-/scripts}/drill-check.sql"
           echo ";"; echo "ROLLBACK;"; } | owner --skip-column-names | head -n 1 | cut -f 1)
dump=$(cat "${TMPDIR:-/tmp}/restore.name")
report "database=$DB_NAME dump=$dump" "$started" "$restored" "$(dump_time "$dump")" "$result"
