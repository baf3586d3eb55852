#!/bin/bash
# A restore drill of Percona Backup for MongoDB's backups, in the cluster's own image: a mongod of
# one member on the scratch volume (replica set rs0, as the cluster's, so no remapping), listening
# on the pod's loopback only; pbm-agent beside it restores the store's newest logical backup; the
# catalog's check counts documents in the copy; how long the restore took and how old the backup
# is (its last write) logged. Both processes stop and the copy is removed whatever happened.
set -euo pipefail
. "${SCRIPTS:-/scripts}/drill-report.sh"
scratch=${DRILL_DIR:-/var/lib/drill}
local_server="mongodb://127.0.0.1:27017/"
export PBM_MONGODB_URI="$local_server?replicaSet=$REPLSET"
server="" agent=""
cleanup() {
  for pid in $agent $server; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$scratch/db" "$scratch/pbm" "$scratch/pbm-agent"
}
trap cleanup EXIT
started=$(date +%s)
mkdir -p "$scratch/db"
mongod --dbpath "$scratch/db" --replSet "$REPLSET" --bind_ip 127.0.0.1 --port 27017 --unixSocketPrefix "$scratch" >&2 &
server=$!
await_server "$server" mongosh --quiet --norc "$local_server" --eval 'db.runCommand({ping: 1})'
mongosh --quiet --norc "$local_server" --eval \
  'rs.initiate({_id: process.env.REPLSET, members: [{_id: 0, host: "127.0.0.1:27017"}]})' > /dev/null
await_server "$server" mongosh --quiet --norc "$local_server" --eval 'if (!db.hello().isWritablePrimary) quit(1)'
"$scratch/pbm-agent" >&2 &
agent=$!
# The store's backups, as the cluster's agents see them (a resync of the store).
"$scratch/pbm" config --file="${SCRIPTS:-/scripts}/pbm-config.yaml" --wait > /dev/null
newest=$("$scratch/pbm" list --out=json \
  | jq -r '[.snapshots[] | select(.type == "logical")] | max_by(.restoreTo) // empty | "\(.name) \(.restoreTo)"')
if [ -z "$newest" ]; then
  echo "no logical backup of $CLUSTER in the store" >&2
  exit 1
fi
backup=${newest% *}
"$scratch/pbm" restore "$backup" --wait >&2
restored=$(date +%s)
result=$(mongosh --quiet --norc "$PBM_MONGODB_URI" "${SCRIPTS:-/scripts}/drill-check.js")
report "cluster=$CLUSTER backup=$backup" "$started" "$restored" "${newest##* }" "$result"
