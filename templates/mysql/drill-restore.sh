#!/bin/bash
# A restore drill's first step, in the XtraBackup image the cluster's backups use: the newest
# backup of the cluster fetched from the store and prepared, as the operator's own restore does
# it (build/backup/recovery-cloud.sh at v1.19.0: xbcloud get | xbstream -x --decompress, then
# xtrabackup --prepare --rollback-prepared-trx), into the scratch volume.
set -euo pipefail
scratch=${DRILL_DIR:-/var/lib/drill}
date +%s > "$scratch/started"
# The environment the operator's restore gives xbcloud and the aws CLI (build/backup/lib/pxc/aws.sh
# at v1.19.0): ENDPOINT and DEFAULT_REGION, the keys as ACCESS_KEY_ID and SECRET_ACCESS_KEY, and
# the aws CLI's own names of them.
export AWS_REGION="${DEFAULT_REGION:-us-west-2}"
export AWS_ENDPOINT_URL="${ENDPOINT:-https://s3.${AWS_REGION}.amazonaws.com}"
endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
# PXC names each backup <cluster>-YYYY-MM-DD-hh:mm:ss-full (beside it: <name>.sst_info), so the
# newest sorts last.
backup=$(aws s3 ls "${endpoint[@]}" "s3://$BACKUP_FOLDER/" | awk '$1 == "PRE" { print $2 }' | sed 's#/$##' \
  | grep -E "^$CLUSTER-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}-full\$" | sort | tail -n 1) || true
if [ -z "$backup" ]; then
  echo "no backup of $CLUSTER in s3://$BACKUP_FOLDER" >&2
  exit 1
fi
echo "$backup" > "$scratch/backup"
echo "restoring $backup" >&2
data="$scratch/data"
rm -rf "$data"
mkdir -p "$data"
xbcloud get --curl-retriable-errors=7 "s3://$BACKUP_FOLDER/$backup" | xbstream -x -C "$data" --decompress
xtrabackup --prepare --rollback-prepared-trx --target-dir="$data"
