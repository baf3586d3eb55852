#!/bin/sh
# Creates the database's owner, or brings it in line (see provision.js); credentials stay in the
# environment.
set -eu
. "${SCRIPTS:-/scripts}/mongodb-client.sh"
mongosh --nodb --quiet "${SCRIPTS:-/scripts}/provision.js"
