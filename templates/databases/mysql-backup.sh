#!/bin/sh
# Dumps the database as its owner, compresses it, streams it to the store with rclone, then deletes
# the dumps older than the retention. A failed dump leaves no file behind.
set -eu
. "${SCRIPTS:-/scripts}/mysql-client.sh"
rclone="${RCLONE:-/tools/rclone}"
dump="$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
failed="${TMPDIR:-/tmp}/dump-failed"
rm -f "$failed"
{
  MYSQL_PWD="$DB_PASSWORD" mariadb-dump $(mariadb_options) --user="$DB_OWNER" \
    --single-transaction --no-tablespaces --routines --triggers "$DB_NAME" || touch "$failed"
} | gzip | "$rclone" rcat "$BACKUP_PATH/$dump"
if [ -e "$failed" ]; then
  "$rclone" deletefile "$BACKUP_PATH/$dump" || true
  echo "dump of $DB_NAME failed" >&2
  exit 1
fi
echo "wrote $BACKUP_PATH/$dump"
if [ -n "${BACKUP_RETENTION:-}" ]; then
  "$rclone" delete --min-age "$BACKUP_RETENTION" --include "$DB_NAME-*.sql.gz" "$BACKUP_PATH"
fi
