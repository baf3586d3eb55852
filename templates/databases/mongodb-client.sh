# The server's TLS as the catalog says, as connection string options; and a mongodump/mongorestore
# configuration file holding the owner's password (so that it is on no command line).
case "$DB_TLS_MODE" in
  disable) DB_TLS_OPTIONS="tls=false" ;;
  require) DB_TLS_OPTIONS="tls=true&tlsAllowInvalidCertificates=true" ;;
  verify-ca) DB_TLS_OPTIONS="tls=true&tlsCAFile=$DB_CA_FILE&tlsAllowInvalidHostnames=true" ;;
  *) DB_TLS_OPTIONS="tls=true&tlsCAFile=$DB_CA_FILE" ;;
esac
export DB_TLS_OPTIONS

mongo_tools_config() {
  config="${TMPDIR:-/tmp}/mongo-tools.yaml"
  escaped=$(printf '%s' "$DB_PASSWORD" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
  (umask 077 && printf 'password: "%s"\n' "$escaped" > "$config")
  echo "$config"
}

mongo_uri() {
  echo "mongodb://$DB_HOST:$DB_PORT/?authSource=admin&$DB_TLS_OPTIONS"
}
