#!/bin/sh
# Restores a mongodump archive into the database as its owner. The database must be empty: a
# restore never overwrites data.
set -eu
. "${SCRIPTS:-/scripts}/mongodb-client.sh"
. "${SCRIPTS:-/scripts}/restore-fetch.sh"
. "${SCRIPTS:-/scripts}/wait.sh"
wait_until "the owner of $DB_NAME (the provisioning Job)" mongosh --nodb --quiet --eval '
  const env = process.env;
  new Mongo(`mongodb://${env.DB_HOST}:${env.DB_PORT}/?${env.DB_TLS_OPTIONS}`).getDB("admin").auth(env.DB_OWNER, env.DB_PASSWORD);'
collections=$(mongosh --nodb --quiet --eval '
  const env = process.env;
  const connection = new Mongo(`mongodb://${env.DB_HOST}:${env.DB_PORT}/?${env.DB_TLS_OPTIONS}`);
  const admin = connection.getDB("admin");
  admin.auth(env.DB_OWNER, env.DB_PASSWORD);
  print(connection.getDB(env.DB_NAME).getCollectionNames().length);')
if [ "$collections" != 0 ]; then
  echo "$DB_NAME has $collections collections: a restore goes into an empty database, it never overwrites one" >&2
  exit 1
fi
file=$(fetch_dump)
config=$(mongo_tools_config)
gunzip -c "$file" | mongorestore --config="$config" --uri="$(mongo_uri)" --username="$DB_OWNER" --archive --nsInclude="$DB_NAME.*"
echo "restored $DB_NAME"
