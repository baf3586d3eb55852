#!/bin/sh
# Dumps the database as its owner, compresses it, streams it to the store with rclone, then deletes
# the dumps older than the retention. A failed dump leaves no file behind.
set -eu
. "${SCRIPTS:-/scripts}/store-dump.sh"
. "${SCRIPTS:-/scripts}/postgresql-client.sh"
pg_connect "$DB_OWNER" "$DB_PASSWORD" "$DB_NAME"
# The owner's schemas, not the extensions (provisioning makes those, and only their owner may).
schemas=$(psql --no-psqlrc -At -c "SELECT '--schema=' || quote_ident(nspname) FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY 1")
# shellcheck disable=SC2086 # one word per schema option
store_dump pg_dump --no-owner --no-privileges $schemas
