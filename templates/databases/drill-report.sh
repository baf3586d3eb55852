# One line a log query (or a person) reads after a restore drill: what was restored, how long the
# restore took, how old the restored data was, and whether the check passed; fails the drill when
# it did not.  report <what> <started> <restored> <data time> <result>, times in epoch seconds.
report() {
  what=$1 started=$2 restored=$3 data_time=$4 result=$5
  case "$result" in
    "" | 0 | f | false | FALSE | NULL) outcome=failed ;;
    *) outcome=passed ;;
  esac
  echo "dbfleet-drill $what restore_seconds=$((restored - started)) data_age_seconds=$((restored - data_time)) check=$outcome"
  if [ "$outcome" != passed ]; then
    echo "the drill's check ($what) returned ${result:-no row}" >&2
    exit 1
  fi
}

# When a dump was taken, from its name (<database>-YYYYMMDDThhmmssZ.<suffix>), in epoch seconds.
dump_time() {
  stamp=$(echo "$1" | sed -n 's/.*-\([0-9]\{4\}\)\([0-9][0-9]\)\([0-9][0-9]\)T\([0-9][0-9]\)\([0-9][0-9]\)\([0-9][0-9]\)Z\..*/\1-\2-\3 \4:\5:\6/p')
  date -u -d "$stamp" +%s
}

# Waits while the restored copy's server (process $1) starts, until the command after it succeeds;
# fails the drill when the server stops first (its log is above).
await_server() {
  pid=$1
  shift
  until "$@" > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the restored copy's server stopped before it accepted connections (its log is above)" >&2
      exit 1
    fi
    sleep 2
  done
}
