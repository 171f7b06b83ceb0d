"""The peer: PostGraphile 5 (amber preset) on Node 22, pointed at the bench database, answering
the equivalent of our COMPANY_PAGE in its own schema shape (see PEER_PAGE).

What differs from ours, on purpose and reported: PostGraphile does no authentication (ours
verifies an RS256 JWT and checks revocation in Redis on every request), so the tenant is chosen
by a `condition` argument. Orders PostGraphile does not offer are added by the config file
(lower(name), lower(last_name), owner role) and the index-only ordering rule is switched off, so
every list is ordered as ours is. Production settings: NODE_ENV and GRAPHILE_ENV production, no
watch mode, no GraphiQL, no explain, one process pinned to the server core.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import psutil

from bench.tools import TOOLS, Tools

# Our nested lists default to 50 items: asked for explicitly here.
PEER_PAGE = """query($tenant: UUID!, $first: Int!) {
  companies: allCompanies(condition: {tenantId: $tenant}, orderBy: [NAME_LOWER_ASC, ROW_ID_ASC], first: $first) {
    edges { node { id: rowId name
      contacts: contactsByCompanyIdAndTenantId(orderBy: [LAST_NAME_LOWER_ASC, ROW_ID_ASC], first: 50) { nodes {
        id: rowId firstName lastName
        emails: contactEmailsByContactIdAndTenantId(orderBy: [IS_PRIMARY_DESC, CREATED_AT_ASC, ROW_ID_ASC]) { nodes { email } }
        phones: contactPhonesByContactIdAndTenantId(orderBy: [IS_PRIMARY_DESC, CREATED_AT_ASC, ROW_ID_ASC]) { nodes { phone } }
        owners: contactOwnersByContactIdAndTenantId(orderBy: [ROLE_ASC, CREATED_AT_ASC, ROW_ID_ASC], first: 50) {
          nodes { role user: userByUserIdAndTenantId { id: rowId name } } } } }
      deals: dealsByCompanyIdAndTenantId(orderBy: [CREATED_AT_DESC, ROW_ID_DESC], first: 50) { nodes {
        id: rowId title value currency
        stage: pipelineStageByStageIdAndPipelineIdAndTenantId { name }
        owners: dealOwnersByDealIdAndTenantId(orderBy: [ROLE_ASC, CREATED_AT_ASC, ROW_ID_ASC], first: 50) {
          nodes { role user: userByUserIdAndTenantId { id: rowId } } } } } } } } }"""

# Written next to node_modules, so that its imports resolve there. Settings come from PEER_*.
CONFIG = """\
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { addPgTableOrderBy, orderByAscDesc } from "postgraphile/utils";
import pg from "pg";

const env = process.env;

// ORDER BY lower(column): our order, by the same stored key (`<column>_key`, alembic 0019)
// and its index.
function lowerOrder(tableName, column, baseName) {
  return addPgTableOrderBy({ schemaName: "public", tableName }, (build) =>
    orderByAscDesc(baseName, (queryBuilder) => ({
      fragment: build.sql`${queryBuilder.alias}.${build.sql.identifier(column + "_key")}`,
      codec: build.dataplanPg.TYPES.text,
    })),
  );
}

// Enum columns get no orderBy values of their own; owners are ordered by role first.
function roleOrder(tableName) {
  return addPgTableOrderBy({ schemaName: "public", tableName }, () => orderByAscDesc("ROLE", "role"));
}

export default {
  extends: [PostGraphileAmberPreset],
  plugins: [
    lowerOrder("company", "name", "NAME_LOWER"),
    lowerOrder("contact", "last_name", "LAST_NAME_LOWER"),
    roleOrder("contact_owner"),
    roleOrder("deal_owner"),
  ],
  // By default only indexed columns can order a list; ours orders e-mails by is_primary.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      pool: new pg.Pool({
        host: env.PEER_PG_HOST,
        port: Number(env.PEER_PG_PORT),
        user: env.PEER_PG_USER,
        password: env.PEER_PG_PASSWORD || undefined,
        database: env.PEER_PG_DATABASE,
        max: Number(env.PEER_POOL_SIZE),
        // node-postgres closes a connection idle for 10 s by default; the peer idles while the
        // others are measured, and a backend born mid-run would be measured from birth.
        idleTimeoutMillis: 0,
      }),
      schemas: ["public"],
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(env.PEER_PORT),
    graphiql: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};
"""


def pg_env(database_url: str) -> dict[str, str]:
    """Our SQLAlchemy URL, unix socket in `?host=` included, as node-postgres settings."""
    parsed = urlparse(database_url)
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "127.0.0.1"])[0]
    return {
        "PEER_PG_HOST": host,
        "PEER_PG_PORT": str(parsed.port or query.get("port", ["5432"])[0]),
        "PEER_PG_USER": unquote(parsed.username or "postgres"),
        "PEER_PG_PASSWORD": unquote(parsed.password or ""),
        "PEER_PG_DATABASE": parsed.path.lstrip("/"),
    }


def bodies(tenant_id: str, first: int) -> list[dict[str, Any]]:
    return [{"query": PEER_PAGE, "variables": {"tenant": tenant_id, "first": first}}]


@contextmanager
def peer(tools: Tools, database_url: str, port: int, prefix: list[str]) -> Iterator[psutil.Process]:
    """PostGraphile listening on 127.0.0.1:port, run under `prefix` (taskset); yields node."""
    assert tools.node and tools.postgraphile, "the peer is not installed"
    _assert_port_free(port)  # else the readiness check could be answered by a stale peer
    home = TOOLS / "postgraphile"
    config = home / "graphile.config.mjs"
    config.write_text(CONFIG)
    env = {**os.environ, **pg_env(database_url), "PEER_PORT": str(port), "PEER_POOL_SIZE": "10",
           "NODE_ENV": "production", "GRAPHILE_ENV": "production"}  # fmt: skip
    command = [*prefix, str(tools.node), str(tools.postgraphile), "--config", str(config)]
    with (home / "peer.log").open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=log)
    try:
        _wait_ready(process, port)
        yield psutil.Process(process.pid)  # taskset execs node: the same process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def _assert_port_free(port: int) -> None:
    with socket.socket() as probe:
        # as a server binds: connections of an earlier run in TIME_WAIT do not make it taken
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise RuntimeError(f"port {port} is taken; pass another --peer-port") from error


def _wait_ready(process: subprocess.Popen[bytes], port: int) -> None:
    """Until it answers a query; it listens before its schema is built, and a failed build
    (no database) leaves it listening and answering errors."""
    log = TOOLS / "postgraphile" / "peer.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PostGraphile exited ({process.returncode}), see {log}")
        try:
            post(f"http://127.0.0.1:{port}/graphql", {"query": "{ __typename }"})
            return
        except (OSError, AssertionError):
            time.sleep(0.3)
    raise RuntimeError(f"PostGraphile did not answer within 60 s, see {log}")


def post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert "errors" not in answer, f"{url}: {json.dumps(answer)[:500]}"
    return answer


def plain(value: Any) -> Any:
    """Nested connections as plain lists, to compare the rows: PostGraphile's `{nodes: [...]}`
    and ours, `{edges: [{node: ...}]}` (of a company; `companies_of` reads the page)."""
    if isinstance(value, dict):
        if set(value) == {"nodes"}:
            return [plain(v) for v in value["nodes"]]
        if set(value) == {"edges"} and all(set(e) == {"node"} for e in value["edges"]):
            return [plain(e["node"]) for e in value["edges"]]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def companies_of(answer: dict[str, Any]) -> list[Any]:
    """The page's companies, their nested connections as plain lists (in either shape)."""
    return [plain(edge["node"]) for edge in answer["data"]["companies"]["edges"]]


def counts(answer: dict[str, Any]) -> Counter[str]:
    found: Counter[str] = Counter()
    for company in companies_of(answer):
        found["companies"] += 1
        for contact in company["contacts"]:
            found["contacts"] += 1
            found["emails"] += len(contact["emails"])
            found["phones"] += len(contact["phones"])
            found["owners"] += len(contact["owners"])
        for deal in company["deals"]:
            found["deals"] += 1
            found["stages"] += deal["stage"] is not None
            found["owners"] += len(deal["owners"])
    return found


def check_equivalent(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """Same rows in both answers (counted, since the shapes differ); says whether the content,
    renamed to our shape, is identical too."""
    mine, peers = counts(ours), counts(theirs)
    assert mine == peers, (
        f"the peer answers other rows: ours {dict(mine)}, PostGraphile {dict(peers)}"
    )
    identical = companies_of(theirs) == companies_of(ours)
    listed = ", ".join(f"{n} {k}" for k, n in mine.items())
    return f"same rows ({listed}); content identical in our shape: {'yes' if identical else 'no'}"


async def bench_tenant(database_url: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        return str(await connection.fetchval("SELECT id FROM tenant WHERE slug = 'bench'"))
    finally:
        await connection.close()
