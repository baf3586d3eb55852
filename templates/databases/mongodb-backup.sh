#!/bin/sh
# Dumps the database as its owner (a mongodump archive), compresses it, streams it to the store with
# rclone, then deletes the dumps older than the retention. A failed dump leaves no file behind.
set -eu
. "${SCRIPTS:-/scripts}/mongodb-client.sh"
. "${SCRIPTS:-/scripts}/store-dump.sh"
config=$(mongo_tools_config)
store_dump mongodump --config="$config" --uri="$(mongo_uri)" --username="$DB_OWNER" --db="$DB_NAME" --archive
