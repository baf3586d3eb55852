# Fetches the dump to restore (the latest, or the one named) and checks it is whole.
fetch_dump() {
  rclone="${RCLONE:-/tools/rclone}"
  if [ "$RESTORE_DUMP" = latest ]; then
    dump=$("$rclone" lsf --files-only --include "$DB_NAME-*${DUMP_SUFFIX:-.sql.gz}" "$BACKUP_PATH" | sort | tail -n 1)
  else
    dump="$RESTORE_DUMP"
  fi
  if [ -z "$dump" ]; then
    echo "no dump of $DB_NAME in $BACKUP_PATH" >&2
    exit 1
  fi
  local_copy="${TMPDIR:-/tmp}/restore${DUMP_SUFFIX:-.sql.gz}"
  "$rclone" copyto "$BACKUP_PATH/$dump" "$local_copy"
  gzip -t "$local_copy"
  echo "$dump" > "${TMPDIR:-/tmp}/restore.name"
  echo "restoring $dump" >&2
  echo "$local_copy"
}
