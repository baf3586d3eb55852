#!/bin/sh
# Creates the database's owner, or brings it in line (see provision.js); credentials stay in the
# environment.
set -eu
. "${SCRIPTS:-/scripts}/mongodb-client.sh"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "the server $DB_HOST:$DB_PORT" mongosh --nodb --quiet --eval '
  const env = process.env;
  new Mongo(`mongodb://${env.DB_HOST}:${env.DB_PORT}/?${env.DB_TLS_OPTIONS}`).getDB("admin").runCommand({ping: 1});'
mongosh --nodb --quiet "${SCRIPTS:-/scripts}/provision.js"
