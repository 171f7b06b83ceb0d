#!/usr/bin/env bash
# Runs the benchmark suite; installs what it needs into the project's venv. See bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[dev]'
exec .venv/bin/python bench/run.py "$@"
