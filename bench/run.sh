#!/usr/bin/env bash
# Runs the benchmark suite; installs what it needs into the project's venv and, for the peer
# (Node 22, PostGraphile 5) and the load generator (wrk), into the git-ignored bench/.tools/.
# See bench/run.py and bench/tools.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -c requirements.lock -e '.[dev]'
.venv/bin/python bench/tools.py  # never fails: what it can't install is left out, with a note
exec .venv/bin/python bench/run.py "$@"
