#!/usr/bin/env bash
# Codegen in CI (issue 24, item 8): generate the clients frontend and platform engineers use
# from the repository's schema.graphql and the documents in clients/documents, and prove they
# compile. Fails (non-zero, with the failing step named) when a schema change breaks them.
#
#   clients/check.sh                               # ../schema.graphql and documents/*.graphql
#   CLIENTS_SCHEMA=other.graphql clients/check.sh  # another SDL than ../schema.graphql
#
# Steps: Node 22 (bench/tools.py, into bench/.tools), the npm packages of package.json (npm ci,
# into clients/node_modules), graphql-codegen (client preset) -> generated/gql, tsc --noEmit
# (strict) over the generated types and src/; ariadne-codegen (clients/.tools/py) -> the
# Python client in .tools/ariadne, imported, a response validated, mypy --strict.
# Everything installed is git-ignored and pinned; nothing is installed system-wide. Not part
# of the default test command; .ci/run runs it after the tests.
#
# Exit 3: a tool could not be installed (npm or PyPI unreachable), so nothing was checked;
# any other non-zero exit: a generated client broke (the failing step is named).
set -euo pipefail

CLIENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$CLIENTS")"
if [ -n "${CLIENTS_SCHEMA:-}" ]; then export CLIENTS_SCHEMA="$(realpath "$CLIENTS_SCHEMA")"; fi  # another SDL file
cd "$CLIENTS"

step=""
trap 'status=$?; if [ $status -ne 0 ]; then echo "check.sh: FAILED at: $step (exit $status)" >&2; fi' EXIT
begin() { step="$1"; echo "== $1"; }

begin "Node 22 (bench/tools.py)"
NODE="$("$REPO/.venv/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bench.tools import node; print(node())' "$REPO")" || {
  echo "check.sh: Node 22 could not be installed (is npm installed and the registry reachable?)" >&2
  exit 3
}
export PATH="$(dirname "$NODE"):$PATH"  # npm and the tools run on Node 22, not the system's

begin "npm packages (npm ci into clients/node_modules)"
lock="$(sha256sum package-lock.json | cut -c1-64)"
if [ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock" ]; then  # install on demand
  npm ci --no-audit --no-fund --fetch-timeout=30000 --fetch-retries=1 >/dev/null || {
    echo "check.sh: npm ci failed: is the npm registry ($(npm config get registry)) reachable?" >&2
    exit 3
  }
  echo "$lock" >node_modules/.installed-lock
fi

begin "graphql-codegen (client preset)"
node node_modules/.bin/graphql-codegen --config codegen.ts
test -s generated/gql/persisted-documents.json

begin "tsc --noEmit (strict)"
node node_modules/.bin/tsc --noEmit -p tsconfig.json

begin "Python tools (clients/.tools/py)"
if [ ! -x .tools/py/bin/ariadne-codegen ] || [ python/requirements.txt -nt .tools/py/bin/ariadne-codegen ]; then
  "$REPO/.venv/bin/uv" venv -q --allow-existing --python 3.11 .tools/py
  VIRTUAL_ENV="$CLIENTS/.tools/py" "$REPO/.venv/bin/uv" pip install -q -r python/requirements.txt || {
    echo "check.sh: the Python tools could not be installed: is PyPI reachable?" >&2
    exit 3
  }
  touch .tools/py/bin/ariadne-codegen
fi

begin "ariadne-codegen"
rm -rf .tools/ariadne && mkdir -p .tools/ariadne/documents
cp "${CLIENTS_SCHEMA:-../schema.graphql}" .tools/ariadne/schema.graphql
cp documents/*.graphql .tools/ariadne/documents/
.tools/py/bin/ariadne-codegen --config ariadne-codegen.toml client >/dev/null

begin "the Python client imports, validates a response, and passes mypy --strict"
PYTHONPATH=.tools/ariadne .tools/py/bin/python python/usage.py
(cd .tools/ariadne && MYPYPATH=. ../py/bin/mypy --config-file ../../python/mypy.ini \
  --cache-dir ../mypy-cache insight_crm_client ../../python/usage.py)

step="versions"
echo "== versions: node $(node --version), npm $(npm --version)," \
  "$(node -p "['graphql','@graphql-codegen/cli','@graphql-codegen/client-preset','typescript'].map(p => p + ' ' + require('./node_modules/' + p + '/package.json').version).join(', ')")," \
  "$(.tools/py/bin/ariadne-codegen --version | tail -1), $(.tools/py/bin/mypy --version | cut -d' ' -f1-2)"
echo "check.sh: OK"
