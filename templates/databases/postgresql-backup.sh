#!/bin/sh
# Dumps the database as its owner, compresses it, streams it to the store with rclone, then deletes
# the dumps older than the retention. A failed dump leaves no file behind.
set -eu
. "${SCRIPTS:-/scripts}/store-dump.sh"
export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$DB_OWNER" PGPASSWORD="$DB_PASSWORD"
export PGSSLMODE="$DB_TLS_MODE" PGDATABASE="$DB_NAME" PGCONNECT_TIMEOUT=10
if [ -n "${DB_CA_FILE:-}" ]; then export PGSSLROOTCERT="$DB_CA_FILE"; fi
if [ -n "${DB_CERT_FILE:-}" ]; then export PGSSLCERT="$DB_CERT_FILE" PGSSLKEY="$DB_KEY_FILE"; fi
# The owner's schemas, not the extensions (provisioning makes those, and only their owner may).
schemas=$(psql --no-psqlrc -At -c "SELECT '--schema=' || quote_ident(nspname) FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1")
# shellcheck disable=SC2086 # one word per schema option
store_dump pg_dump --no-owner --no-privileges $schemas
