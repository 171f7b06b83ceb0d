#!/usr/bin/env bash
# The graphql-http audit: does /graphql follow the GraphQL-over-HTTP spec?
# graphql-http (npm, pinned below) is installed on demand into the git-ignored
# clients/.tools/graphql-http, never system-wide; node >= 18 runs it (the system's will do).
#
#   clients/graphql-http-audit.sh        # starts `insight-crm serve` on a scratch data dir and
#                                        # a free port, audits it, stops it
#   clients/graphql-http-audit.sh URL    # audits a running server: the token is AUDIT_TOKEN, or
#                                        # one `insight-crm token` signs (DATA_DIR's dev key)
#
# Prints every audit and a summary; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CRM="$ROOT/.venv/bin/insight-crm"
GRAPHQL_HTTP_VERSION=1.23.1
GRAPHQL_VERSION=16.15.0 # graphql-http's peer dependency
PREFIX="$HERE/.tools/graphql-http"
NODE=${NODE:-node}

installed() {
  "$NODE" -e "process.exit(require('$PREFIX/node_modules/graphql-http/package.json').version === '$GRAPHQL_HTTP_VERSION' ? 0 : 1)" 2>/dev/null
}
if ! installed; then
  echo "installing graphql-http@$GRAPHQL_HTTP_VERSION into $PREFIX" >&2
  mkdir -p "$PREFIX"
  [ -f "$PREFIX/package.json" ] || echo '{"private": true}' >"$PREFIX/package.json"
  npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact \
    "graphql-http@$GRAPHQL_HTTP_VERSION" "graphql@$GRAPHQL_VERSION" >&2
fi

if [ $# -ge 1 ]; then
  URL=$1
  TOKEN=${AUDIT_TOKEN:-$("$CRM" token --tenant audit --user audit@example.de --ttl 30m)}
else
  DATA=$(mktemp -d)
  PORT=$("$ROOT/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$CRM" serve --data-dir "$DATA" --port "$PORT" --no-worker >"$DATA/serve.log" 2>&1 &
  SERVER=$!
  stop() {
    kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    rm -rf "$DATA"
  }
  trap stop EXIT
  for _ in $(seq 1 240); do # the first start initializes PostgreSQL: up to two minutes
    curl -sf "http://127.0.0.1:$PORT/livez" >/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/serve.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -sf "http://127.0.0.1:$PORT/livez" >/dev/null || { cat "$DATA/serve.log" >&2; exit 1; }
  TOKEN=$("$CRM" token --data-dir "$DATA" --tenant audit --user audit@example.de --ttl 30m)
  URL="http://127.0.0.1:$PORT/graphql"
fi

AUDIT_TOKEN=$TOKEN GRAPHQL_HTTP_PREFIX=$PREFIX "$NODE" "$HERE/graphql-http-audit.mjs" "$URL"
