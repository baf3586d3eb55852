# One line a log query (or a person) reads after a restore drill: how long the restore took, how
# old the restored data was (from the dump's name, <database>-YYYYMMDDThhmmssZ.<suffix>), and
# whether the check passed; fails the drill when it did not.
report() {
  started=$1 restored=$2 result=$3
  dump=$(cat "${TMPDIR:-/tmp}/restore.name")
  stamp=$(echo "$dump" | sed -n 's/.*-\([0-9]\{4\}\)\([0-9][0-9]\)\([0-9][0-9]\)T\([0-9][0-9]\)\([0-9][0-9]\)\([0-9][0-9]\)Z\..*/\1-\2-\3 \4:\5:\6/p')
  age=$((restored - $(date -u -d "$stamp" +%s)))
  case "$result" in
    "" | 0 | f | false | FALSE | NULL) outcome=failed ;;
    *) outcome=passed ;;
  esac
  echo "dbfleet-drill database=$DB_NAME dump=$dump restore_seconds=$((restored - started)) data_age_seconds=$age check=$outcome"
  if [ "$outcome" != passed ]; then
    echo "the check query of $DB_NAME's drill returned ${result:-no row}" >&2
    exit 1
  fi
}
