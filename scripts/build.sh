#!/usr/bin/env bash
# Build every release artifact of the committed revision (HEAD) into dist/: the wheel, the sdist
# and the --py-files zip (reproducible, with SHA256SUMS and artifacts.json), then the OCI image
# salam/ingest:<version>-g<revision> as an OCI layout in dist/image with its record dist/image.json
# (digest, size, layers). Daemonless: debootstrap + buildah, as root. The first build on a
# machine makes the Debian base image (about a minute); later ones reuse it.
#   bash scripts/build.sh [--dist DIR] [--no-image]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh debian
bash scripts/setup.sh python
case " $* " in *" --no-image "*) ;; *) bash scripts/setup.sh image ;; esac
exec .venv/bin/python -m tools.release "$@"
