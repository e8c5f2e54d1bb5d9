#!/usr/bin/env bash
# The main job on the embedded dev environment, on one machine with no account or cluster:
# set up, validate dev, start a local Temporal dev server and the dev worker, generate the SQLite
# miniboss_bss source, reconcile dev's crontab and Temporal schedules, trigger the miniboss_bss
# schedule and let the worker run the Spark ingestion into the local Iceberg lake, start the
# controller (`reconcile serve`) that applies each new commit on main to dev from then on, then
# print a summary and the controller's URL. Safe to run again: services are reused, the reconcile changes nothing,
# and the triggered run is an incremental one. `bash scripts/dev-services.sh stop|clean` ends it.
#
# Each step shows as a live line with its elapsed time on a terminal (its output in
# .salam/logs/), and as plain `==> [ 12s] step` lines with the output streaming in CI or a pipe.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

bash scripts/setup.sh debian
bash scripts/setup.sh bootstrap
export PATH="$PWD/.venv/bin:$PATH" SPARK_LOCAL_IP=127.0.0.1
step() { python -m tools.progress --since "$started" "$@"; }

step "install the Python environment (.venv)" -- bash scripts/setup.sh python
step "validate the dev environment" -- reconcile validate --env dev
address=$(step "start the local Temporal dev server and the dev worker" -- \
  bash scripts/dev-services.sh up)
[ -f .salam/source/miniboss_bss.db ] ||
  step "generate the embedded miniboss_bss source (SQLite)" -- ingest demo-source
step "reconcile dev: crontab file target and Temporal schedules" -- \
  reconcile --env dev --backend crontab --backend temporal --set "temporal.address=$address"
step "trigger miniboss_ingest; the worker runs the Spark ingestion" -- \
  bash scripts/dev-services.sh run miniboss_ingest > .salam/services/last-run.json

url=$(step "start the controller (reconcile serve): dev stays on its branch" -- \
  bash scripts/dev-services.sh controller)
follows="each commit on main"  # dev's sync.source; outside a git repository, the files
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || follows="each edit to environments/dev/"

echo
python -m ingestion.demo.summary .salam/services/last-run.json
logs=""; [ ! -d .salam/logs ] || logs=" and .salam/logs/"  # the step logs: on a terminal only
cat >&2 <<TXT

Temporal at $address (namespace ingestion-dev); logs in .salam/services/$logs
Controller at $url (status: $url/status/dev); it applies $follows within 3m
  (POST $url/webhook/git: at once); a hand edit is reported as drift, not undone
Web UI at $url/ (dev's schedules: $url/env/dev)
Next:
  reconcile --env dev --dry-run --backend crontab --backend temporal --set temporal.address=$address
  reconcile drift --env dev --backend crontab --backend temporal --set temporal.address=$address
  bash scripts/dev-services.sh run miniboss_ingest   # another (incremental) run
  bash scripts/dev-services.sh stop     # stop the controller, the worker and the Temporal server
  bash scripts/dev-services.sh clean    # ... and remove the dev state (.salam/)
TXT
