#!/bin/sh
# Restores a dump into the database as its owner. The database must be empty (freshly
# provisioned): a restore never overwrites data.
set -eu
. "${SCRIPTS:-/scripts}/mysql-client.sh"
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "$DB_NAME and its owner (the provisioning Job)" env MYSQL_PWD="$DB_PASSWORD" mariadb $(mariadb_options) \
  --connect-timeout=10 --batch --user="$DB_OWNER" "$DB_NAME" --execute="SELECT 1"
file=$(fetch_dump)
if [ -n "$(MYSQL_PWD="$DB_PASSWORD" mariadb $(mariadb_options) --batch --skip-column-names --user="$DB_OWNER" "$DB_NAME" -e 'SHOW TABLES')" ]; then
  echo "$DB_NAME has tables: a restore goes into an empty database, it never overwrites one" >&2
  exit 1
fi
gunzip -c "$file" | MYSQL_PWD="$DB_PASSWORD" mariadb $(mariadb_options) --batch --user="$DB_OWNER" "$DB_NAME"
echo "restored $DB_NAME"
