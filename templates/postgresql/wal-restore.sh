#!/bin/bash
# The restored copy's restore_command: one WAL segment (or timeline history file) from the
# cluster's archive; failing when there is none ends the recovery.
set -euo pipefail
. "${SCRIPTS:-/scripts}/barman.sh"
exec barman-cloud-wal-restore "${barman_options[@]}" "$DESTINATION" "$SERVER_NAME" "$1" "$2"
