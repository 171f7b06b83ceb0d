"""S5: `createDeal` with two owners and `updateContact` of two fields, against the raw
transaction routes of bench/raw.py (which write the same deal, owner, version and outbox event
rows), plus the SQL statements each mutation runs, counted in process.

    run_s5(...)                      mutations/s, latency, server+PG CPU per mutation
    statements_per_mutation(...)     every statement of one mutation, in order
    python bench/mutations.py URL BODY_FILE TOKEN SECONDS CONCURRENCY   (the load client)

The load client is bench/load.py's closed loop with one difference: worker w sends only the
bodies w, w + c, w + 2c, ... (c workers). updateContact bodies are laid out so that each worker
owns its own contacts: no two requests wait for the same row lock, and every update changes
both fields (a value seen on a contact's previous visit never comes back on the next).

Both sides run against the same data; created deals are removed after the scenario (titles
starting with "S5 ") and the updated contacts keep their new position and department.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CREATE_DEAL = (
    "mutation($input: CreateDealInput!) { createDeal(input: $input) { id title value currency } }"
)
UPDATE_CONTACT = (
    "mutation($id: ID!, $input: UpdateContactInput!) "
    "{ updateContact(id: $id, input: $input) { id position department version } }"
)
CONTACTS_PER_WORKER = 50
VISITS = 4  # values per contact before they repeat (never on consecutive visits)
S5_NAMES = {
    "createDeal": ("S5 createDeal, 2 owners", "raw create-deal transaction"),
    "updateContact": ("S5 updateContact, 2 fields", "raw update-contact transaction"),
}
RAW_PATHS = {"createDeal": "/bench/raw/create-deal", "updateContact": "/bench/raw/update-contact"}
RAW_STATEMENTS = {  # by construction, see bench/raw.py
    "createDeal": ["WITH deal AS (INSERT INTO deal ...), owners AS (INSERT INTO deal_owner ...)",
                   "WITH counter AS (INSERT INTO event_counter ...) INSERT INTO crm_event ..."],
    "updateContact": ["UPDATE contact ... FROM (SELECT ... FOR UPDATE) old RETURNING old and new",
                      "WITH counter AS (INSERT INTO event_counter ...) INSERT INTO crm_event ..."],
}  # fmt: skip


@dataclass(frozen=True)
class Fixture:
    """Rows of the 'bench' tenant the mutations point at."""

    tenant_id: str
    pipeline_id: str
    stage_id: str  # the pipeline's first OPEN stage
    company_ids: list[str]
    user_ids: list[str]
    contact_ids: list[str]


def pinned(core: int) -> list[str]:
    """bench/run.py's pinning (not imported from there: run.py runs as __main__)."""
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def fixture(database_url: str, contacts: int = 2000) -> Fixture:
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        tenant = await db.fetchval("SELECT id FROM tenant WHERE slug = 'bench'")
        pipeline = await db.fetchval(
            "SELECT id FROM pipeline WHERE tenant_id = $1 AND is_default", tenant
        )
        stage = await db.fetchval(
            "SELECT id FROM pipeline_stage WHERE tenant_id = $1 AND pipeline_id = $2"
            " AND kind = 'OPEN' ORDER BY position LIMIT 1",
            tenant,
            pipeline,
        )
        rows = {
            "company": "SELECT id FROM company WHERE tenant_id = $1 ORDER BY id LIMIT 200",
            "user": "SELECT id FROM \"user\" WHERE tenant_id = $1 AND subject LIKE 'user-%' ORDER BY subject",
            "contact": f"SELECT id FROM contact WHERE tenant_id = $1 ORDER BY id LIMIT {contacts}",
        }
        ids = {name: [str(r["id"]) for r in await db.fetch(sql, tenant)] for name, sql in rows.items()}  # fmt: skip
    finally:
        await db.close()
    return Fixture(str(tenant), str(pipeline), str(stage), ids["company"], ids["user"], ids["contact"])  # fmt: skip


def create_deal_bodies(fx: Fixture, count: int = 1000) -> list[dict[str, Any]]:
    """Deals on the default pipeline's first stage, each with an OWNER and a MEMBER."""
    users = fx.user_ids
    return [
        {"query": CREATE_DEAL, "variables": {"input": {
            "title": f"S5 Rahmenvertrag {n}", "value": f"{1000 + n % 5000}.50", "currency": "EUR",
            "pipelineId": fx.pipeline_id, "stageId": fx.stage_id,
            "companyId": fx.company_ids[n % len(fx.company_ids)],
            "owners": [{"userId": users[n % len(users)], "role": "OWNER"},
                       {"userId": users[(n + 1) % len(users)], "role": "MEMBER"}]}}}
        for n in range(count)
    ]  # fmt: skip


def update_contact_bodies(fx: Fixture, concurrency: int, run: str) -> list[dict[str, Any]]:
    """Body i updates contact i % K to values of visit i // K (K a multiple of the workers, so
    worker w, sending bodies w, w + c, ..., only ever touches contacts w, w + c, ...). `run`
    makes the first visit differ from whatever an earlier run left."""
    k = min(CONTACTS_PER_WORKER, len(fx.contact_ids) // concurrency) * concurrency
    return [
        {"query": UPDATE_CONTACT, "variables": {"id": fx.contact_ids[i % k], "input": {
            "position": f"Einkauf {run}-{i // k}", "department": f"Abteilung {run}-{i // k}"}}}
        for i in range(k * VISITS)
    ]  # fmt: skip


def scenarios(fx: Fixture, concurrency: int, run: str) -> list[tuple[str, str, list[dict[str, Any]]]]:  # fmt: skip
    """(name, path, bodies): each mutation next to its raw transaction route."""
    found = []
    for mutation, bodies in (("createDeal", create_deal_bodies(fx)),
                             ("updateContact", update_contact_bodies(fx, concurrency, run))):  # fmt: skip
        ours, raw = S5_NAMES[mutation]
        found += [(ours, "/graphql", bodies), (raw, RAW_PATHS[mutation], bodies)]
    return found


# The load client (a subprocess pinned to the other core).


async def _worker(session: Any, url: str, bodies: list[bytes], deadline: float, out: dict[str, Any]) -> None:  # fmt: skip
    for body in itertools.cycle(bodies):
        if time.perf_counter() >= deadline:
            return
        started = time.perf_counter()
        async with session.post(url, data=body) as response:
            payload = await response.read()
        out["latencies"].append(time.perf_counter() - started)
        out["sizes"].add(len(payload))
        if response.status >= 300 or b'"errors"' in payload:
            out["failures"] += 1
            out["first_error"] = out.get("first_error") or payload[:300].decode(errors="replace")


async def load(url: str, bodies: list[bytes], token: str, seconds: float, concurrency: int) -> dict[str, Any]:  # fmt: skip
    import aiohttp

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    out: dict[str, Any] = {"latencies": [], "sizes": set(), "failures": 0}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(
            _worker(session, url, bodies[w::concurrency], deadline, out) for w in range(concurrency)
        ))  # fmt: skip
        elapsed = time.perf_counter() - started
    latencies = sorted(out["latencies"])
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": 1000 * latencies[count // 2] if count else None,
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else None,
        "failures": out["failures"],
        "first_error": out.get("first_error"),
        "sizes": sorted(out["sizes"])[:5],
    }


async def postmaster_pid(database_url: str) -> int:
    """The PostgreSQL server behind `database_url` (its backends are its children)."""
    import asyncpg
    import psutil

    db = await asyncpg.connect(_dsn(database_url))
    try:  # asked while the backend lives
        return int(psutil.Process(await db.fetchval("SELECT pg_backend_pid()")).ppid())
    finally:
        await db.close()


def server_cpu_seconds(server_process: Any, postmaster: Any) -> float:
    """CPU of the server process and of that PostgreSQL server (postmaster and every child),
    including backends that exited meanwhile: their CPU moves to the postmaster's children
    times when it reaps them (summing live backends only loses it, and pool overflow
    connections come and go under load). Children are listed afresh each call, so backends
    started in between count in full."""
    import psutil

    total = 0.0
    for process in [server_process, postmaster, *postmaster.children()]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def measure(server_process: Any, postmaster: Any, port: int, bodies: list[dict[str, Any]],
            token: str, seconds: float, concurrency: int, path: str) -> dict[str, Any]:  # fmt: skip
    """bench/run.py's measure() with this module's load client and CPU count."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(json.dumps(b) for b in bodies))
    before = server_cpu_seconds(server_process, postmaster)
    command = [*pinned(1), sys.executable, __file__, f"http://127.0.0.1:{port}{path}",
               handle.name, token, str(seconds), str(concurrency)]  # fmt: skip
    try:
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(output)
    result["cpu_ms_per_request"] = 1000 * (server_cpu_seconds(server_process, postmaster) - before) / max(1, result["requests"])  # fmt: skip
    result["rss_mb"] = server_process.memory_info().rss / 2**20
    assert result["failures"] == 0, f"{path}: {result['failures']} failed answers {result}"
    return result


# Checks before timing: the same answer shape, the same event.


def _post(port: int, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert "errors" not in answer, f"{path}: {answer}"
    return answer


def shape(value: Any) -> Any:
    """Keys (in order) and JSON types, without the values."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


async def _latest_event(database_url: str, tenant_id: str) -> dict[str, Any]:
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        row = await db.fetchrow(
            "SELECT type, entity, entity_id, actor_id, changes FROM crm_event"
            " WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
            uuid.UUID(tenant_id),
        )
    finally:
        await db.close()
    return {**dict(row), "changes": json.loads(row["changes"])}


def check_same(port: int, token: str, fx: Fixture, database_url: str) -> None:
    """Ours and the raw route answer the same shape and write the same event (same type, same
    changes; for createDeal with the same input even the same values)."""
    stamp = f"Check {time.time()}"
    same_input = {
        "createDeal": [create_deal_bodies(fx, 1)[0]] * 2,
        # Two contacts get the same new values: same keys and new values, old values differ.
        "updateContact": [
            {"query": UPDATE_CONTACT, "variables": {"id": fx.contact_ids[-n], "input": {
                "position": stamp, "department": stamp}}} for n in (1, 2)],
    }  # fmt: skip
    for mutation, (ours, raw) in same_input.items():
        ours_answer = _post(port, token, "/graphql", ours)
        ours_event = asyncio.run(_latest_event(database_url, fx.tenant_id))
        raw_answer = _post(port, token, RAW_PATHS[mutation], raw)
        raw_event = asyncio.run(_latest_event(database_url, fx.tenant_id))
        assert shape(ours_answer) == shape(raw_answer), f"{mutation}: {ours_answer} / {raw_answer}"
        assert ours_event["type"] == raw_event["type"], (ours_event, raw_event)
        assert ours_event["actor_id"] == raw_event["actor_id"], (ours_event, raw_event)
        if mutation == "createDeal":
            assert ours_event["changes"] == raw_event["changes"], (ours_event, raw_event)
        else:
            new = {key: change[1] for key, change in ours_event["changes"].items()}
            assert new == {key: change[1] for key, change in raw_event["changes"].items()}


async def remove_created_deals(database_url: str, tenant_id: str) -> int:
    """Deals this scenario created, with their owners (cascade); their events stay."""
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        done = await db.execute(
            "DELETE FROM deal WHERE tenant_id = $1 AND title LIKE 'S5 %'",
            uuid.UUID(tenant_id),
        )
    finally:
        await db.close()
    return int(done.split()[-1])


# Statements, counted in process on the application's engine.


async def statements_per_mutation(settings: Any, token: str, fx: Fixture) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per mutation: the statements one request sent (first line of each, in order), how many
    of them set the tenant (set_config), how many transactions (from the engine's events), and
    the messages the driver sent outside the cursor (BEGIN, with the tenant, and COMMIT; its
    query logger sees these, not the prepared statements)."""
    import httpx
    from sqlalchemy import event

    from app.web.asgi import create_app

    application = create_app(settings)
    bodies = {"createDeal": create_deal_bodies(fx, 2),
              "updateContact": update_contact_bodies(fx, 1, f"count{int(time.time())}")[:2]}  # fmt: skip
    counted: dict[str, dict[str, Any]] = {}
    async with application.router.lifespan_context(application):
        engine = application.state.runtime.engine.sync_engine
        transport = httpx.ASGITransport(app=application)
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for mutation, (warm, body) in bodies.items():
                await http.post("/graphql", json=warm, headers=headers)  # provisioning, caches
                seen: dict[str, Any] = {"statements": [], "begin": 0, "commit": 0}

                def cursor(_c: Any, _cur: Any, statement: str, parameters: Any, _context: Any,
                           many: bool, seen: dict[str, Any] = seen) -> None:  # fmt: skip
                    text = " ".join(statement.split())[:120]
                    rows = f" [executemany: {len(parameters)} rows]" if many else ""
                    seen["statements"].append(text + rows)

                def begin(_c: Any, seen: dict[str, Any] = seen) -> None:
                    seen["begin"] += 1

                def commit(_c: Any, seen: dict[str, Any] = seen) -> None:
                    seen["commit"] += 1

                def driver(record: Any, seen: dict[str, Any] = seen) -> None:
                    seen["driver"].append(" ".join(record.query.split())[:120])

                def checkout(connection: Any, *_: Any, log: Any = driver) -> None:
                    connection.driver_connection.add_query_logger(log)

                def checkin(connection: Any, *_: Any, log: Any = driver) -> None:
                    connection.driver_connection.remove_query_logger(log)

                seen["driver"] = []
                listeners = ((engine, "before_cursor_execute", cursor), (engine, "begin", begin),
                             (engine, "commit", commit), (engine.pool, "checkout", checkout),
                             (engine.pool, "checkin", checkin))  # fmt: skip
                for target, name, listener in listeners:
                    event.listen(target, name, listener)
                try:
                    response = await http.post("/graphql", json=body, headers=headers)
                    await asyncio.sleep(0.05)  # the driver's query logger reports soon after
                finally:
                    for target, name, listener in listeners:
                        event.remove(target, name, listener)
                assert "errors" not in response.json(), response.text[:500]
                set_config = sum("set_config(" in s for s in seen["statements"])
                seen["set_config"] = set_config
                seen["counted"] = len(seen["statements"]) - set_config
                counted[mutation] = seen
    await remove_created_deals(str(settings.owner_database_url), fx.tenant_id)
    return counted


# The scenario, for bench/run.py.


def count_statements(settings: Any, token: str) -> dict[str, dict[str, Any]]:
    """statements_per_mutation() for the bench tenant (in process, no server needed)."""
    fx = asyncio.run(fixture(str(settings.owner_database_url)))
    return asyncio.run(statements_per_mutation(settings, token, fx))


def run_s5(server_process: Any, port: int, token: str, database_url: str, *, seconds: float,
           concurrency: int, rounds: int = 1) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Checks, a warm-up, then `rounds` interleaved rounds of every S5 scenario."""
    import psutil

    fx = asyncio.run(fixture(database_url))
    postmaster = psutil.Process(asyncio.run(postmaster_pid(database_url)))
    run = f"{int(time.time()) % 100000}"
    asyncio.run(remove_created_deals(database_url, fx.tenant_id))
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        check_same(port, token, fx, database_url)
        warm = min(2.0, seconds)
        for name, path, bodies in scenarios(fx, concurrency, f"{run}w"):
            measure(server_process, postmaster, port, bodies, token, warm, concurrency, path)
            results[name] = []
        for round_ in range(rounds):
            for name, path, bodies in scenarios(fx, concurrency, f"{run}r{round_}"):
                result = measure(
                    server_process, postmaster, port, bodies, token, seconds, concurrency, path
                )
                results[name].append(result)
                print(name, json.dumps(result), flush=True)
    finally:
        asyncio.run(remove_created_deals(database_url, fx.tenant_id))
    return results


def _ratio(ours: list[dict[str, Any]], raw: list[dict[str, Any]], key: str) -> str:
    """Round by round (they ran interleaved): median [min-max], as bench/run.py reports."""
    ratios = sorted(a[key] / b[key] for a, b in zip(ours, raw, strict=True))
    return f"{ratios[len(ratios) // 2]:.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}]"


def report_lines(results: dict[str, list[dict[str, Any]]], statements: dict[str, dict[str, Any]] | None = None) -> list[str]:  # fmt: skip
    """RESULTS.md's S5 section: the table, the ratios, the statements per mutation."""
    lines = [
        "## S5: mutations against raw transactions",
        "",
        "Both write the row(s), the owners or the version bump, and the outbox event (crm_event with",
        "the tenant's event_counter sequence), and wake the relay; the raw routes were checked to",
        "answer the same shape and to write the same event before timing. Load: each worker owns",
        "its contacts (no row-lock waits) and every update changes both fields.",
        "",
        "| scenario | mutations/s | p50 ms | p99 ms | server+PG CPU ms/mutation | RSS MB | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rounds in results.items():
        rps = sorted(r["rps"] for r in rounds)
        cpu = sorted(r["cpu_ms_per_request"] for r in rounds)
        mid = rounds[len(rounds) // 2]
        lines.append(
            f"| {name} | {rps[len(rps) // 2]:.1f} [{rps[0]:.1f}-{rps[-1]:.1f}] | {mid['p50_ms']:.1f} | "
            f"{mid['p99_ms']:.1f} | {cpu[len(cpu) // 2]:.2f} [{cpu[0]:.2f}-{cpu[-1]:.2f}] | "
            f"{mid['rss_mb']:.0f} | {sum(r['failures'] for r in rounds)} |"
        )
    lines.append("")
    for mutation, (ours, raw) in S5_NAMES.items():
        if ours in results and raw in results:
            rps = _ratio(results[ours], results[raw], "rps")
            cpu_ratio = _ratio(results[ours], results[raw], "cpu_ms_per_request")
            lines.append(f"- S5 {mutation}: {rps} the raw transaction's mutations/s "
                         f"(target >= 0.8x); CPU per mutation {cpu_ratio} the raw one's")  # fmt: skip
    lines += _statement_lines(statements or {})
    return lines


def _statement_lines(statements: dict[str, dict[str, Any]]) -> list[str]:
    if not statements:
        return []
    lines = ["", "Statements per mutation (target <= 3 + BEGIN/COMMIT), counted in process:", ""]
    for mutation, seen in statements.items():
        lines.append(
            f"- {mutation}: {seen['counted']} statements"
            + (f" + {seen['set_config']} tenant set_config" if seen["set_config"] else "")
            + f", {seen['begin']} transaction(s) (BEGIN/COMMIT); raw route: "
            f"{len(RAW_STATEMENTS[mutation])} statements + BEGIN/COMMIT"
        )
        lines += [f"  {n}. `{s}`" for n, s in enumerate(seen["statements"], start=1)]
        lines += [f"  - sent by the driver itself: `{m}`" for m in seen.get("driver", [])]
    return lines


def main() -> None:
    url, body_file, token, seconds, concurrency = sys.argv[1:6]
    with open(body_file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    print(json.dumps(asyncio.run(load(url, bodies, token, float(seconds), int(concurrency)))))


if __name__ == "__main__":
    main()
