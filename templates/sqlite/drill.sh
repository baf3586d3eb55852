#!/bin/sh
# A restore drill of Litestream's replica: the database restored from the store into a scratch
# folder with the entry's own Litestream configuration, the catalog's check query run on the copy
# opened read-only, how long the restore took and how old the newest replicated change is logged.
# The copy is removed whatever happened.
set -eu
. "${SCRIPTS:-/scripts}/drill-report.sh"
litestream="${LITESTREAM:-/tools/litestream}"
copy="${DRILL_DIR:-/var/lib/drill}/restored.db"
cleanup() {
  rm -f "$copy" "$copy-wal" "$copy-shm" "$copy.tmp" "$copy.tmp-wal" "$copy.tmp-shm"
}
trap cleanup EXIT
started=$(date +%s)
# -no-expand-env: the configuration is the replicating container's, read as it is.
"$litestream" restore -config "$LITESTREAM_CONFIG" -no-expand-env -o "$copy" "$DB_PATH"
restored=$(date +%s)
# When the newest change restored was replicated: the newest LTX file's creation, at any level.
newest=$("$litestream" ltx -config "$LITESTREAM_CONFIG" -no-expand-env -level all "$DB_PATH" \
  | awk 'NR > 1 { print $NF }' | sort | tail -n 1)
data_time=$(date -u -d "$(echo "$newest" | sed 's/T/ /; s/Z$//')" +%s)
# -readonly: the copy is not written; -safe: SQL only, no dot-command reaches the shell or files.
result=$(sqlite3 -readonly -safe -bail -batch -noheader -list "$copy" < "${SCRIPTS:-/scripts}/drill-check.sql" \
  | head -n 1 | cut -d '|' -f 1)
report "entry=$ENTRY" "$started" "$restored" "$data_time" "$result"
