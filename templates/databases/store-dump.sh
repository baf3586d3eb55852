# Streams the output of the dump command given (its arguments), gzipped, to the store with rclone;
# deletes the partial upload when the dump fails; then deletes dumps older than the retention.
store_dump() {
  rclone="${RCLONE:-/tools/rclone}"
  dump="$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ)${DUMP_SUFFIX:-.sql.gz}"
  failed="${TMPDIR:-/tmp}/dump-failed"
  rm -f "$failed"
  { "$@" || touch "$failed"; } | gzip | "$rclone" rcat "$BACKUP_PATH/$dump"
  if [ -e "$failed" ]; then
    "$rclone" deletefile "$BACKUP_PATH/$dump" || true
    echo "the dump of $DB_NAME failed" >&2
    exit 1
  fi
  echo "wrote $BACKUP_PATH/$dump"
  if [ -n "${BACKUP_RETENTION:-}" ]; then
    "$rclone" delete --min-age "$BACKUP_RETENTION" --include "$DB_NAME-*${DUMP_SUFFIX:-.sql.gz}" "$BACKUP_PATH"
  fi
}
