#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up (Airflow too, in .venv-airflow: the DAG files'
# test oracle; chromium for the web UI's browser tests), lint (ruff), types (mypy), layer contracts
# (import-linter), rendered plans up to date for every environment, generated reference docs
# up to date, then pytest (integration tests included: they start real Temporal, PostgreSQL,
# cron and Spark themselves; tests/release builds the image once with scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup.sh airflow
bash scripts/setup.sh image   # tests/release build the image and push it to a local registry
bash scripts/setup.sh browser
export SPARK_LOCAL_IP=127.0.0.1 PATH="$PWD/.venv/bin:$PATH"

echo "==> ruff" >&2
ruff check .
ruff format --check .
echo "==> mypy" >&2
mypy
echo "==> import contracts (lint-imports)" >&2
lint-imports --no-cache
echo "==> rendered plans up to date" >&2
for env in $(ls environments); do
  reconcile render --env "$env" --check
done
echo "==> generated reference docs up to date" >&2
python -m tools.docgen --check
echo "==> pytest" >&2
pytest -q -p no:cacheprovider "$@"
