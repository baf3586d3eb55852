#!/bin/sh
# A restore drill: the latest dump restored into a scratch database (as the owner, as a restore
# would), the catalog's check (a count of documents) run there, how long the restore took and how
# old the data was logged; the scratch database is dropped and the owner's roles on it taken
# back, whatever happened.
set -eu
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/mongodb-client.sh"
. "${SCRIPTS:-/scripts}/drill-report.sh"
step() { DRILL_STEP=$1 mongosh --nodb --quiet "${SCRIPTS:-/scripts}/drill.js"; }
cleanup() {
  step clear || echo "could not drop $DRILL_DATABASE" >&2
  step take-back || echo "could not take back $DB_OWNER's roles on $DRILL_DATABASE" >&2
  rm -f "${TMPDIR:-/tmp}/restore${DUMP_SUFFIX:-.archive.gz}"
}
trap cleanup EXIT
started=$(date +%s)
file=$(fetch_dump)
step lend
step clear
config=$(mongo_tools_config)
gunzip -c "$file" | mongorestore --config="$config" --uri="$(mongo_uri)" --username="$DB_OWNER" --archive \
  --nsInclude="$DB_NAME.*" --nsFrom="$DB_NAME.*" --nsTo="$DRILL_DATABASE.*"
restored=$(date +%s)
result=$(step check)
dump=$(cat "${TMPDIR:-/tmp}/restore.name")
report "database=$DB_NAME dump=$dump" "$started" "$restored" "$(dump_time "$dump")" "$result"
