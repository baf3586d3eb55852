#!/bin/sh
# Creates the database and its owner, or brings them in line: every statement of provision.sql is
# idempotent. The owner's password is read by psql from DB_PASSWORD (\getenv), never written out.
set -eu
export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$DB_ADMIN_USER" PGPASSWORD="$DB_ADMIN_PASSWORD"
export PGSSLMODE="$DB_TLS_MODE" PGDATABASE="${DB_ADMIN_DATABASE:-postgres}" PGCONNECT_TIMEOUT=10
if [ -n "${DB_CA_FILE:-}" ]; then export PGSSLROOTCERT="$DB_CA_FILE"; fi
if [ -n "${DB_CERT_FILE:-}" ]; then export PGSSLCERT="$DB_CERT_FILE" PGSSLKEY="$DB_KEY_FILE"; fi
psql --no-psqlrc --quiet --file="${SCRIPTS:-/scripts}/provision.sql"
echo "database $DB_NAME and role $DB_OWNER are provisioned"
