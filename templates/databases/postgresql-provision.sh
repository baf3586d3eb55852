#!/bin/sh
# Creates the database and its owner, or brings them in line: every statement of provision.sql is
# idempotent. The owner's password is read by psql from DB_PASSWORD (\getenv), never written out.
set -eu
. "${SCRIPTS:-/scripts}/postgresql-client.sh"
pg_connect "$DB_ADMIN_USER" "$DB_ADMIN_PASSWORD" "${DB_ADMIN_DATABASE:-postgres}"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "the server $DB_HOST:$DB_PORT" psql --no-psqlrc --command="SELECT 1"
psql --no-psqlrc --quiet --file="${SCRIPTS:-/scripts}/provision.sql"
echo "database $DB_NAME and role $DB_OWNER are provisioned"
