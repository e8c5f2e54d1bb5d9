#!/usr/bin/env bash
# The main job on the embedded dev environment, on one machine with no account or cluster:
# set up, validate dev, start a local Temporal dev server and the dev worker, generate the SQLite
# miniboss_bss source, reconcile dev's crontab and Temporal schedules, trigger the miniboss_bss
# schedule and let the worker run the Spark ingestion into the local Iceberg lake, then print a
# summary. Safe to run again: services are reused, the reconcile changes nothing, and the
# triggered run is an incremental one. `bash scripts/dev-services.sh stop|clean` ends it.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { printf '\n==> [%3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }

step "set up (Debian packages, Python environment)"
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH" SPARK_LOCAL_IP=127.0.0.1

step "validate the dev environment"
reconcile validate --env dev

step "start the local Temporal dev server and the dev worker"
address=$(bash scripts/dev-services.sh start)
bash scripts/dev-services.sh worker
temporal_cli=(temporal --address "$address" --namespace ingestion-dev)
echo "Temporal at $address; worker log .salam/services/worker.log" >&2

step "generate the embedded miniboss_bss source"
[ -f .salam/source/miniboss_bss.db ] || ingest demo-source

step "reconcile dev: crontab file target and Temporal schedules"
reconcile --env dev --backend crontab --backend temporal --set "temporal.address=$address"

step "trigger the miniboss_bss schedule; the worker runs the Spark ingestion"
before=$("${temporal_cli[@]}" schedule describe -s miniboss_ingest -o json |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["info"].get("recentActions", [])))')
"${temporal_cli[@]}" schedule trigger -s miniboss_ingest >/dev/null
workflow=""
for _ in $(seq 1 120); do
  workflow=$("${temporal_cli[@]}" schedule describe -s miniboss_ingest -o json | python3 -c '
import json, sys
actions = json.load(sys.stdin)["info"].get("recentActions", [])
if len(actions) > int(sys.argv[1]):
    print(actions[-1]["startWorkflowResult"]["workflowId"])' "$before")
  [ -n "$workflow" ] && break
  sleep 0.5
done
[ -n "$workflow" ] || { echo "the schedule did not start a workflow; see .salam/services/" >&2; exit 1; }
echo "workflow $workflow started; waiting for it (Spark takes a minute)" >&2
"${temporal_cli[@]}" workflow result --workflow-id "$workflow" -o json > .salam/services/last-run.json

step "summary"
python3 - "$workflow" <<'PY'
import json, sys
from pathlib import Path
result = json.loads(Path(".salam/services/last-run.json").read_text())
print(f"workflow {sys.argv[1]}: {result.get('status', '?')}")
cron = Path(".salam/cron/salam-dev.cron").read_text()
print(f"crontab block: {cron.count('# salam job=')} entry(ies) in .salam/cron/salam-dev.cron")
lines = Path(".salam/events/dev.jsonl").read_text().splitlines()
events = [json.loads(line) for line in lines if line.strip()]
done = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == "miniboss_bss"]
for table in done[-1]["run"]["facets"]["salam"]["tables"] if done else []:
    window = table["window"]
    print(f"  {table['target']}: {table['status']}, {table['rows_written']} row(s) written, "
          f"watermark {window['watermark_before']} -> {window['watermark_after']}")
print("events: .salam/events/dev.jsonl   lake: .salam/lake/")
PY
cat >&2 <<TXT

Next:
  reconcile --env dev --dry-run --backend crontab --backend temporal --set temporal.address=$address
  reconcile drift --env dev --backend crontab --backend temporal --set temporal.address=$address
  bash scripts/dev-services.sh stop     # stop the worker and the Temporal server
  bash scripts/dev-services.sh clean    # ... and remove the dev state (.salam/)
TXT
