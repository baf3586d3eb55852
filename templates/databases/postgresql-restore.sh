#!/bin/sh
# Restores a dump into the database as its owner, in one transaction: all of it, or nothing. The
# database must be empty (freshly provisioned): a restore never overwrites data.
set -eu
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/postgresql-client.sh"
pg_connect "$DB_OWNER" "$DB_PASSWORD" "$DB_NAME"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "$DB_NAME and its owner (the provisioning Job)" psql --no-psqlrc --command="SELECT 1"
tables=$(psql --no-psqlrc -At -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
if [ "$tables" != 0 ]; then
  echo "$DB_NAME has $tables tables: a restore goes into an empty database, it never overwrites one" >&2
  exit 1
fi
file=$(fetch_dump)
# Provisioning made the schemas the owner owns (public among them): create them only if missing.
# Only the definitions, before the first COPY of data, are rewritten.
gunzip -c "$file" \
  | sed -e '1,/^COPY /s/^CREATE SCHEMA \([^ ;]*\);$/CREATE SCHEMA IF NOT EXISTS \1;/' \
  | psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --single-transaction
echo "restored $DB_NAME"
