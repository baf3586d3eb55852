#!/bin/sh
# Creates the database and its owner, or brings them in line: every statement of provision.sql is
# idempotent. The owner's password goes to the server on standard input, as a quoted literal.
set -eu
. "${SCRIPTS:-/scripts}/mysql-client.sh"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "the server $DB_HOST:$DB_PORT" env MYSQL_PWD="$DB_ADMIN_PASSWORD" mariadb $(mariadb_options) \
  --connect-timeout=10 --batch --user="$DB_ADMIN_USER" --execute="SELECT 1"
escaped=$(printf '%s' "$DB_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
{
  echo "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '');"
  printf "SET @password = '%s';\n" "$escaped"
  cat "${SCRIPTS:-/scripts}/provision.sql"
} | MYSQL_PWD="$DB_ADMIN_PASSWORD" mariadb $(mariadb_options) --connect-timeout=10 --batch --user="$DB_ADMIN_USER"
echo "database $DB_NAME and user $DB_OWNER are provisioned"
