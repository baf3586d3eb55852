# Options for the server's address, port and TLS (as the catalog says), for mariadb and mariadb-dump.
mariadb_options() {
  case "$DB_TLS_MODE" in
    disable) tls="--skip-ssl" ;;
    require) tls="--ssl --skip-ssl-verify-server-cert" ;;
    *) tls="--ssl --ssl-ca=$DB_CA_FILE --ssl-verify-server-cert" ;;
  esac
  if [ -n "${DB_CERT_FILE:-}" ]; then tls="$tls --ssl-cert=$DB_CERT_FILE --ssl-key=$DB_KEY_FILE"; fi
  echo "--host=$DB_HOST --port=$DB_PORT $tls"
}
