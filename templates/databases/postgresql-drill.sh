#!/bin/sh
# A restore drill: the latest dump loaded into a scratch database (as the owner, as a restore
# would), the catalog's check query run there in a read-only transaction, how long the restore
# took and how old the data was logged; the scratch database is dropped whatever happened.
set -eu
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/postgresql-client.sh"
. "${SCRIPTS:-/scripts}/drill-report.sh"
as_admin() { pg_connect "$DB_ADMIN_USER" "$DB_ADMIN_PASSWORD" postgres; }
cleanup() {
  as_admin
  psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --file="${SCRIPTS:-/scripts}/drill-cleanup.sql" || echo "could not drop $DRILL_DATABASE" >&2
  rm -f "${TMPDIR:-/tmp}/restore${DUMP_SUFFIX:-.sql.gz}"
}
trap cleanup EXIT
started=$(date +%s)
file=$(fetch_dump)
as_admin
psql --no-psqlrc --quiet --file="${SCRIPTS:-/scripts}/drill-setup.sql" > /dev/null
pg_connect "$DB_OWNER" "$DB_PASSWORD" "$DRILL_DATABASE"
gunzip -c "$file" \
  | sed -e '1,/^COPY /s/^CREATE SCHEMA \([^ ;]*\);$/CREATE SCHEMA IF NOT EXISTS \1;/' \
  | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --single-transaction
restored=$(date +%s)
# Read-only: the transaction, and (should the query end it) the session.
result=$({ echo "BEGIN READ ONLY;"; cat "${SCRIPTS:-/scripts}/drill-check.sql"; echo ";"; echo "ROLLBACK;"; } \
  | PGOPTIONS="-c default_transaction_read_only=on" psql --no-psqlrc --quiet --no-align --tuples-only \
      --set=ON_ERROR_STOP=1 | head -n 1 | cut -d '|' -f 1)
dump=$(cat "${TMPDIR:-/tmp}/restore.name")
report "database=$DB_NAME dump=$dump" "$started" "$restored" "$(dump_time "$dump")" "$result"
