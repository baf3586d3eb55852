# libpq's settings for the server (address, port, TLS as the catalog says), as user $1 with
# password $2 on database $3.
pg_connect() {
  export PGHOST="$DB_HOST" PGPORT="$DB_PORT" PGUSER="$1" PGPASSWORD="$2" PGDATABASE="$3"
  export PGSSLMODE="$DB_TLS_MODE" PGCONNECT_TIMEOUT=10
  if [ -n "${DB_CA_FILE:-}" ]; then export PGSSLROOTCERT="$DB_CA_FILE"; fi
  if [ -n "${DB_CERT_FILE:-}" ]; then export PGSSLCERT="$DB_CERT_FILE" PGSSLKEY="$DB_KEY_FILE"; fi
}
