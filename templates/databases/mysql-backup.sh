#!/bin/sh
# Dumps the database as its owner, compresses it, streams it to the store with rclone, then deletes
# the dumps older than the retention. A failed dump leaves no file behind.
set -eu
. "${SCRIPTS:-/scripts}/mysql-client.sh"
. "${SCRIPTS:-/scripts}/store-dump.sh"
export MYSQL_PWD="$DB_PASSWORD"
# shellcheck disable=SC2046 # the connection options are words on purpose
store_dump mariadb-dump $(mariadb_options) --user="$DB_OWNER" --single-transaction --no-tablespaces --routines --triggers "$DB_NAME"
