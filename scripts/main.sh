#!/usr/bin/env bash
# The main job on the embedded dev environment, on one machine with no account or cluster:
# set up, validate dev, start a local Temporal dev server, generate the SQLite miniboss_bss
# source, reconcile dev's crontab and Temporal schedules, then run one ingestion job into the
# local Iceberg lake. Safe to run again: services are reused and the second reconcile is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" SPARK_LOCAL_IP=127.0.0.1

step() { printf '\n==> %s\n' "$*" >&2; }

step "validate the dev environment"
reconcile validate --env dev

step "start the local Temporal dev server"
address=$(bash scripts/dev-services.sh start)
echo "Temporal at $address (data under .salam/services/)" >&2

step "generate the embedded miniboss_bss source"
[ -f .salam/source/miniboss_bss.db ] || ingest demo-source

step "reconcile dev: crontab file target and Temporal schedules"
reconcile --env dev --backend crontab --backend temporal --set "temporal.address=$address"

step "run the miniboss_bss ingestion into the local Iceberg lake"
ingest run --config environments/dev/jobs/miniboss_bss.yaml

cat >&2 <<TXT

Done. Next:
  reconcile --env dev --dry-run --backend crontab --backend temporal --set temporal.address=$address
  cat .salam/cron/salam-dev.cron            # the dev crontab block Salam manages
  cat .salam/events/dev.jsonl               # ingestion events
  bash scripts/dev-services.sh stop         # stop the local Temporal server
TXT
