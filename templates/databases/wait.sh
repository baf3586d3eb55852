# Runs a command until it succeeds: every WAIT_INTERVAL seconds (5), for at most WAIT_SECONDS
# (1500, inside the Job's activeDeadlineSeconds). A Job runs once: failing at once because the
# server is still starting, or the provisioning Job has not run yet, would use up its backoffLimit,
# and neither Argo CD (no order among Applications) nor kubectl apply order Jobs across entries.
wait_until() {
  what=$1
  shift
  deadline=$(($(date +%s) + ${WAIT_SECONDS:-1500}))
  until said=$("$@" 2>&1); do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf 'gave up waiting for %s: %s\n' "$what" "$said" >&2
      return 1
    fi
    echo "waiting for $what" >&2
    sleep "${WAIT_INTERVAL:-5}"
  done
}
