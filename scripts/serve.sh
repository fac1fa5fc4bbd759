#!/usr/bin/env bash
# Serve the platform: the web app (gunicorn) on $HOST:$PORT next to the task cluster (qcluster),
# on a database that is already migrated (scripts/run.sh prepares it, then runs this).
# Ctrl-C or SIGTERM stops both within seconds: the web server at once, the cluster after a grace
# of $STOP_GRACE seconds; then the collections it was running are settled as interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Seconds the task cluster gets to finish on stop before it is killed; what it was still
# collecting is then settled as an interrupted attempt (manage.py settle_runs).
STOP_GRACE=${STOP_GRACE:-5}

# Each server runs in its own process group (setsid), so a stop reaches a server and every
# process it forked (gunicorn's workers, the cluster's workers), and Ctrl-C in the terminal
# reaches this script alone, which stops them in order. Bash runs a trap only between
# commands, so this script never runs a server in the foreground: it waits on them.
STARTED=$(date +%s)
setsid $PY manage.py qcluster &
QPID=$!
setsid .venv/bin/gunicorn capacity_site.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-2}" \
  --threads 4 --timeout 300 --graceful-timeout 2 --access-logfile - &
WPID=$!

alive() { kill -0 -- "-$1" 2>/dev/null; }
stop() {
  trap '' INT TERM HUP  # a second Ctrl-C does not cut the stop short
  echo "run: stopping (web server now, task cluster within ${STOP_GRACE}s)"
  # SIGTERM to each master: gunicorn closes its workers within --graceful-timeout, the cluster
  # lets its workers finish; whatever is left of a group after its grace is killed.
  kill -TERM "$WPID" 2>/dev/null || true
  kill -TERM "$QPID" 2>/dev/null || true
  local waited=0
  while alive "$WPID" && [ "$waited" -lt 20 ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL -- "-$WPID" 2>/dev/null || true
  while alive "$QPID" && [ "$waited" -lt $((STOP_GRACE * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL -- "-$QPID" 2>/dev/null || true
  wait 2>/dev/null || true
  $PY manage.py settle_runs --started-since "$STARTED" || true
  echo "run: stopped"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP  # the terminal closed: the servers, in their own sessions, would not hear it
echo "run: platform on http://$HOST:$PORT/admin/ (web pid $WPID, scheduler pid $QPID); Ctrl-C stops both"
# Either server ending on its own (a port already taken, a crash) stops the other.
set +e
wait -n "$QPID" "$WPID"
status=$?
set -e
echo "run: a server ended (status $status)"
stop
exit "$status"
