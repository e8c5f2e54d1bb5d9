#!/usr/bin/env bash
# Install everything Salam needs on a fresh Debian machine: the Debian packages (Java for Spark,
# cron, PostgreSQL 15, the JDBC drivers, flock) and the Python environment in .venv.
# Safe to run again: it skips what is already there. Used by the README and by .ci/run.
# `setup.sh PHASE` runs one phase, as the main command does to show each as a step:
#   debian     the Debian packages
#   bootstrap  .venv with just `rich` (pinned as in pyproject.toml), for the progress display
#              (python -m tools.progress)
#   python     the whole Python environment in .venv
#   airflow    Airflow in its own .venv-airflow: the test oracle for the generated DAG files
#              (scripts/test.sh runs it; Salam itself never imports Airflow)
#   promtool   .tools/promtool from Debian's prometheus package (unpacked, not installed: no
#              service): the tests' oracle for metrics, dashboards and alerting rules
#   browser    Debian's chromium and chromium-driver: the web UI's tests drive it headless
#              (scripts/test.sh runs it)
#   image      the tools scripts/build.sh builds the image with (debootstrap, buildah, skopeo,
#              umoci, gnupg, docker-registry for the signing tests)
# No argument runs debian, python and promtool.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(openjdk-17-jre-headless cron postgresql-15 libpostgresql-jdbc-java
          libxerial-sqlite-jdbc-java util-linux git python3-venv procps)
PYTHON="${PYTHON:-python3}"
stamp=".venv/.salam-installed"
AIRFLOW_PINS=(apache-airflow==3.3.2 apache-airflow-providers-standard==1.21.0)

say() { printf '==> %s\n' "$*" >&2; }

debian() { apt_install "${PACKAGES[@]}"; }

# The browser the web UI's tests drive (Selenium, headless); the two packages go together.
browser() { apt_install chromium chromium-driver; }

# The image tools of scripts/build.sh: debootstrap for the root filesystem, buildah, skopeo and
# umoci for the image (no daemon), gnupg for signing it, and a registry (docker-registry, the
# CNCF distribution server) that the signing tests push to on loopback.
image_tools() { apt_install debootstrap buildah skopeo umoci gnupg docker-registry; }

apt_install() {
  local missing=() package SUDO=""
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

venv() {
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    say "Python >= 3.11 is needed ($PYTHON is $("$PYTHON" --version 2>&1))"; exit 1; }
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
}

bootstrap() {
  venv
  .venv/bin/python -c 'import rich' 2>/dev/null ||
    .venv/bin/python -m pip install -q "$(grep -om1 '"rich[<>=~!][^"]*"' pyproject.toml | tr -d '"')"
}

python_environment() {
  local wanted
  wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "installing the Python environment into .venv (pyspark builds once, about a minute)"
    venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    echo "$wanted" > "$stamp"
  fi
  # pip compiles what it installs, but an editable install leaves the project's own modules as
  # source; where PYTHONDONTWRITEBYTECODE is set every command would compile them again (0.04 s
  # of each --help). Stale bytecode is recompiled by Python itself, so this is only a head start.
  .venv/bin/python -m compileall -q -j 0 ingestion reconciler >/dev/null
  say "set-up complete: $(.venv/bin/python --version), $(java -version 2>&1 | head -n1)"
}

airflow_environment() {
  local wanted="${AIRFLOW_PINS[*]}"
  [ "$(cat .venv-airflow/.salam-installed 2>/dev/null)" != "$wanted" ] || return 0
  say "installing Airflow into .venv-airflow for the DAG-file tests (about 2 minutes)"
  rm -rf .venv-airflow
  "$PYTHON" -m venv .venv-airflow
  .venv-airflow/bin/python -m pip install -q "${AIRFLOW_PINS[@]}"
  echo "$wanted" > .venv-airflow/.salam-installed
}

promtool_binary() {
  local work
  [ ! -x .tools/promtool ] || return 0
  say "fetching promtool from Debian's prometheus package into .tools/ (not installed)"
  work="$(mktemp -d)"
  if ! (cd "$work" && apt-get download prometheus >/dev/null 2>&1); then
    [ "$(id -u)" -eq 0 ] && apt-get update -qq || sudo apt-get update -qq
    (cd "$work" && apt-get download prometheus >/dev/null)
  fi
  dpkg -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p .tools
  cp "$work/root/usr/bin/promtool" .tools/promtool
  rm -rf "$work"
}

case "${1:-all}" in
  debian) debian ;;
  bootstrap) bootstrap ;;
  python) python_environment ;;
  airflow) airflow_environment ;;
  promtool) promtool_binary ;;
  browser) browser ;;
  image) image_tools ;;
  all) debian; python_environment; promtool_binary ;;
  *) say "usage: $0 [debian|bootstrap|python|airflow|promtool|browser|image]"; exit 2 ;;
esac
