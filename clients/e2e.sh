#!/usr/bin/env bash
# Runs clients/apollo-e2e.mjs (Apollo Client: relayStylePagination, the persisted-query link,
# graphql-ws) against insight-crm, then clients/trusted-e2e.mjs against the same data served
# with TRUSTED_DOCUMENTS=only and the manifest graphql-codegen writes; exits non-zero if any
# step fails.
#
#   clients/e2e.sh                       # starts `insight-crm serve` on embedded PostgreSQL and
#                                        # Redis in a temporary data dir, mints an admin token
#                                        # (`insight-crm token`, the dev key, as bench/ does),
#                                        # restarts it in `only` mode for trusted-e2e.mjs
#   CRM_URL=http://host:8000/graphql CRM_TOKEN=... clients/e2e.sh   # a server already running
#                                        # (apollo-e2e.mjs only: the server's mode is its own)
#   E2E_APQ=0 clients/e2e.sh             # apollo-e2e.mjs without the persisted-query link
#
# Node 22 and the npm packages come from check.sh's install (run check.sh once first, or this
# installs them the same way). Not part of the default test command.
set -euo pipefail

CLIENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$CLIENTS")"
cd "$CLIENTS"

NODE="$("$REPO/.venv/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bench.tools import node; print(node())' "$REPO")" || {
  echo "e2e.sh: Node 22 could not be installed (is npm installed and the registry reachable?)" >&2
  exit 1
}
export PATH="$(dirname "$NODE"):$PATH"
lock="$(sha256sum package-lock.json | cut -c1-64)"
if [ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock" ]; then
  npm ci --no-audit --no-fund --fetch-timeout=30000 --fetch-retries=1 >/dev/null || {
    echo "e2e.sh: npm ci failed: is the npm registry ($(npm config get registry)) reachable?" >&2
    exit 1
  }
  echo "$lock" >node_modules/.installed-lock
fi

# The trusted-documents manifest (and the generated documents trusted-e2e.mjs imports), fresh.
node node_modules/.bin/graphql-codegen --config codegen.ts --silent
manifest="$CLIENTS/generated/gql/persisted-documents.json"

server=""
data=""
stop_server() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true  # serve stops its embedded servers on SIGTERM
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
cleanup() {
  stop_server
  if [ -n "$data" ]; then rm -rf "$data"; fi
}
trap cleanup EXIT

start_server() {  # on $data and $port, with the environment given
  env "$@" "$REPO/.venv/bin/insight-crm" serve --data-dir "$data" --port "$port" --no-worker >>"$data/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do  # the first start initializes PostgreSQL and migrates: up to 120 s
    if curl -fsS "http://127.0.0.1:$port/livez" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server" 2>/dev/null; then
      echo "e2e.sh: the server did not start:" >&2
      tail -20 "$data/serve.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "e2e.sh: no server on $port" >&2
  exit 1
}

if [ -z "${CRM_URL:-}" ]; then
  data="$(mktemp -d -t insight-crm-e2e.XXXXXX)"
  port="$("$REPO/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  start_server TRUSTED_DOCUMENTS=off
  export CRM_URL="http://127.0.0.1:$port/graphql"
  export CRM_TOKEN="$("$REPO/.venv/bin/insight-crm" token --data-dir "$data" --tenant "e2e" --user "e2e@example.de" --role admin --ttl 30m)"
  export E2E_FRESH_SERVER=1 E2E_FIXTURE="$data/fixture.json"
fi
: "${CRM_TOKEN:?e2e.sh: with CRM_URL, set CRM_TOKEN to an admin token of that server}"

echo "e2e.sh: node $(node --version), @apollo/client $(node -p "require('./node_modules/@apollo/client/package.json').version"), graphql-ws $(node -p "require('./node_modules/graphql-ws/package.json').version"), ws $(node -p "require('./node_modules/ws/package.json').version")"
status=0
node apollo-e2e.mjs || status=1

if [ -n "$data" ] && [ -s "$data/fixture.json" ]; then
  echo "e2e.sh: the same data served with TRUSTED_DOCUMENTS=only, manifest $manifest"
  stop_server
  start_server TRUSTED_DOCUMENTS=only TRUSTED_DOCUMENTS_MANIFEST="$manifest"
  node trusted-e2e.mjs || status=1
fi
exit $status
