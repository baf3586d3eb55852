#!/bin/bash
# A restore drill of the cluster's native backups, in the cluster's own image: the newest
# completed base backup restored with barman-cloud into a scratch volume, the archived WAL
# replayed to its end by a PostgreSQL that listens on no address and archives nothing, the
# catalog's check query run as the database's owner in a read-only transaction, how long the
# restore took and how old the restored data is logged. The copy is removed whatever happened.
set -euo pipefail
. "${SCRIPTS:-/scripts}/barman.sh"
. "${SCRIPTS:-/scripts}/drill-report.sh"
scratch=${DRILL_DIR:-/var/lib/drill}
pgdata=$scratch/pgdata
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -QUIT "$server" 2>/dev/null || true  # immediate shutdown: nothing of the copy is kept
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$pgdata" "$scratch/run" "$scratch/drill.conf" "$scratch/pg_hba.conf" "$scratch/pg_ident.conf"
}
trap cleanup EXIT
started=$(date +%s)
# The newest backup with a start and an end, as the plugin picks one to recover from
# (cloudnative-pg/barman-cloud pkg/catalog/catalog.go: LatestBackupInfo). barman-cloud before 3.12.1
# writes its times only as ctime text, in UTC in the cluster's pods.
listing=$(barman-cloud-backup-list "${barman_options[@]}" --format json "$DESTINATION" "$SERVER_NAME")
read -r backup backup_end < <(echo "$listing" | python3 -c '
import datetime, json, sys
def end(backup):
    if backup.get("end_time_iso"):
        return datetime.datetime.fromisoformat(backup["end_time_iso"])
    return datetime.datetime.strptime(backup["end_time"], "%a %b %d %H:%M:%S %Y").replace(tzinfo=datetime.timezone.utc)
done = [b for b in json.load(sys.stdin)["backups_list"] if b.get("begin_time") and b.get("end_time")]
if done:
    newest = max(done, key=end)
    print(newest["backup_id"], int(end(newest).timestamp()))
') || true
if [ -z "${backup:-}" ]; then
  echo "no completed base backup of $SERVER_NAME in $DESTINATION" >&2
  exit 1
fi
echo "restoring base backup $backup" >&2
barman-cloud-restore "${barman_options[@]}" "$DESTINATION" "$SERVER_NAME" "$backup" "$pgdata"
chmod 0700 "$pgdata"
# The copy runs on a configuration of its own: the restored one is the operator's (its paths,
# certificates and archive_command are the cluster's). Recovery replays every archived segment,
# then ends; nothing is archived, and only this pod's socket is listened on.
rm -f "$pgdata/standby.signal" "$pgdata/postgresql.auto.conf"
touch "$pgdata/recovery.signal"
mkdir -p "$scratch/run"
echo "local all all trust" > "$scratch/pg_hba.conf"
: > "$scratch/pg_ident.conf"
cat > "$scratch/drill.conf" <<CONF
data_directory = '$pgdata'
hba_file = '$scratch/pg_hba.conf'
ident_file = '$scratch/pg_ident.conf'
listen_addresses = ''
unix_socket_directories = '$scratch/run'
archive_mode = off
hot_standby = off
restore_command = 'bash ${SCRIPTS:-/scripts}/wal-restore.sh %f %p'
recovery_target_timeline = 'latest'
CONF
postgres -c config_file="$scratch/drill.conf" >&2 &
server=$!
# Connections are refused until the recovery has ended (hot_standby off).
await_server "$server" pg_isready --host="$scratch/run" --quiet
restored=$(date +%s)
export PGHOST=$scratch/run PGUSER=$DB_OWNER PGDATABASE=$DB_NAME
# How old the data is: the last transaction the WAL replay applied, else the backup's end.
replayed=$(psql --no-psqlrc --no-align --tuples-only --set=ON_ERROR_STOP=1 \
  --command="SELECT coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::bigint, 0)")
if [ "$replayed" -gt 0 ]; then data_time=$replayed; else data_time=$backup_end; fi
# Read-only: the transaction, and (should the query end it) the session.
output=$({ echo "BEGIN READ ONLY;"; cat "${SCRIPTS:-/scripts}/drill-check.sql"; echo ";"; echo "ROLLBACK;"; } \
  | PGOPTIONS="-c default_transaction_read_only=on" psql --no-psqlrc --quiet --no-align --tuples-only \
      --set=ON_ERROR_STOP=1) || output=""
first=${output%%$'\n'*}
report "cluster=$CLUSTER backup=$backup" "$started" "$restored" "$data_time" "${first%%|*}"
