#!/bin/sh
# Applies the catalog's init SQL to the database, once per version of that SQL: the checksum of
# what ran is recorded in the database, in the same transaction, so a restart changes nothing.
set -eu
db="$1"
sql="$2"
sum=$(sha256sum "$sql" | cut -d ' ' -f 1)
sqlite3 "$db" "PRAGMA journal_mode=WAL;" > /dev/null
sqlite3 "$db" "CREATE TABLE IF NOT EXISTS _dbfleet_init (sha256 TEXT PRIMARY KEY, applied_at TEXT NOT NULL);"
if [ -n "$(sqlite3 "$db" "SELECT 1 FROM _dbfleet_init WHERE sha256 = '$sum';")" ]; then
  echo "init SQL $sum is already applied"
  exit 0
fi
{
  echo "BEGIN;"
  cat "$sql"
  echo
  echo "INSERT INTO _dbfleet_init (sha256, applied_at) VALUES ('$sum', datetime('now'));"
  echo "COMMIT;"
} | sqlite3 -safe -bail "$db"  # -safe: SQL only, no dot-command reaches the shell or other files
echo "applied init SQL $sum"
