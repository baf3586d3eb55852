#!/bin/bash
# A restore drill's check, in the cluster's own image: the prepared copy started by a mysqld that
# listens on no address, checks no password, writes nothing and joins no cluster; the catalog's
# check query run in a read-only transaction; how long the restore took and how old the backup is
# (its end_time in xtrabackup_info) logged. The copy is removed whatever happened.
set -euo pipefail
. "${SCRIPTS:-/scripts}/drill-report.sh"
scratch=${DRILL_DIR:-/var/lib/drill}
data="$scratch/data"
socket="$scratch/mysqld.sock"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data" "$scratch/started" "$scratch/backup" "$socket" "$socket.lock" "$scratch/mysqld.pid"
}
trap cleanup EXIT
started=$(cat "$scratch/started")
backup=$(cat "$scratch/backup")
options=()
if [ -n "${LOWER_CASE_TABLE_NAMES:-}" ]; then
  options+=(--lower-case-table-names="$LOWER_CASE_TABLE_NAMES")
fi
mysqld --no-defaults --datadir="$data" --socket="$socket" --pid-file="$scratch/mysqld.pid" --tmpdir=/tmp \
  --skip-networking --skip-grant-tables --read-only=ON --super-read-only=ON --secure-file-priv=NULL \
  --wsrep-provider=none "${options[@]}" >&2 &
server=$!
await_server "$server" mysqladmin --no-defaults --socket="$socket" ping
restored=$(date +%s)
# end_time = YYYY-MM-DD hh:mm:ss, in the backup pod's time zone (UTC).
data_time=$(date -u -d "$(sed -n 's/^end_time = //p' "$data/xtrabackup_info")" +%s)
output=$({ echo "SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY;"; cat "${SCRIPTS:-/scripts}/drill-check.sql"
           echo ";"; echo "ROLLBACK;"; } \
  | mysql --no-defaults --socket="$socket" --batch --skip-column-names "$DB_NAME") || output=""
first=${output%%$'\n'*}
report "cluster=$CLUSTER backup=$backup" "$started" "$restored" "$data_time" "${first%%$'\t'*}"
