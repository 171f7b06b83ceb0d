"""The benchmark runner: data, server, load, measurements, bench/RESULTS.md.

    .venv/bin/python bench/run.py [--quick] [--seconds 20] [--rounds 3]

What it measures so far (issue 6, first part): our server alone, pinned to core 0 with the load
generator on core 1 (when taskset exists): S1 at first 10/50/200 (rps, p50/p99, server CPU per
request including PostgreSQL backends), S3 (SQL statements per request, counted in process) and
S4 (company by rotating id). The raw asyncpg baseline and the PostGraphile peer are still to come.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.embedded import EmbeddedServers  # noqa: E402
from app.keys import DevTokenRequest, ensure_dev_key, sign_dev_token  # noqa: E402
from app.migrations import upgrade_to_head  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.generate import generate, load  # noqa: E402

DATA = ROOT / "bench" / ".tools" / "data"
COMPANY_PAGE = """query($first: Int!) { companies(first: $first) { edges { node { id name
  contacts { id firstName lastName emails { email } phones { phone } owners { role user { id name } } }
  deals { id title value currency stage { name } owners { role user { id } } } } } } }"""
COMPANY_BY_ID = "query($id: ID!) { company(id: $id) { id name website vatId status } }"


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


@contextmanager
def database() -> Iterator[tuple[str, str]]:
    env_db, env_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if env_db and env_redis:
        yield env_db, env_redis
        return
    DATA.mkdir(parents=True, exist_ok=True)
    with EmbeddedServers(DATA) as servers:
        assert servers.database_url and servers.redis_url
        yield servers.database_url, servers.redis_url


@contextmanager
def server(database_url: str, redis_url: str, port: int) -> Iterator[psutil.Process]:
    key = ensure_dev_key(DATA)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_PUBLIC_KEY": key.as_pem(private=False).decode(),
        "DATA_DIR": str(DATA),
        "LOG_LEVEL": "warning",
        "BENCH_ROUTES": "true",
    }
    command = [*pinned(0), str(Path(sys.executable).parent / "insight-crm"), "serve",
               "--no-worker", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    try:
        _wait_live(port)
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(30)


def _wait_live(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def postgres_backends() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def measure(server_process: psutil.Process, port: int, bodies: list[dict[str, Any]],
            token: str, seconds: float, concurrency: int, path: str = "/graphql") -> dict[str, Any]:  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(json.dumps(b) for b in bodies))
    watched = [server_process, *postgres_backends()]
    before = cpu_seconds(watched)
    command = [*pinned(1), sys.executable, str(ROOT / "bench" / "load.py"),
               f"http://127.0.0.1:{port}{path}", handle.name, token, str(seconds), str(concurrency)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output)
    result["cpu_ms_per_request"] = (
        1000 * (cpu_seconds(watched) - before) / max(1, result["requests"])
    )
    result["rss_mb"] = server_process.memory_info().rss / 2**20
    os.unlink(handle.name)
    return result


async def statements_per_request(settings: Settings, token: str, first: int) -> int:
    import httpx
    from sqlalchemy import event

    from app.asgi import create_app

    application = create_app(settings)
    counted: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "set_config('app.tenant_id'" not in statement:
            counted.append(statement)

    async with application.router.lifespan_context(application):
        engine = application.state.runtime.engine.sync_engine
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            body = {"query": COMPANY_PAGE, "variables": {"first": first}}
            headers = {"authorization": f"Bearer {token}"}
            await http.post("/graphql", json=body, headers=headers)  # provisions the user
            event.listen(engine, "before_cursor_execute", count)
            response = await http.post("/graphql", json=body, headers=headers)
            event.remove(engine, "before_cursor_execute", count)
            assert "errors" not in response.json(), response.text[:500]
    return len(counted)


async def company_ids(database_url: str, limit: int = 500) -> list[str]:
    import asyncpg

    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        rows = await connection.fetch(
            "SELECT c.id FROM company c JOIN tenant t ON t.id = c.tenant_id WHERE t.slug = 'bench'"
            " ORDER BY c.id LIMIT $1",
            limit,
        )
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


def scenarios(ids: list[str]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(name, path, bodies): each GraphQL scenario next to its raw baseline."""
    found: list[tuple[str, str, list[dict[str, Any]]]] = []
    for n in (10, 50, 200):
        bodies = [{"query": COMPANY_PAGE, "variables": {"first": n}}]
        found.append((f"S1 companies(first: {n})", "/graphql", bodies))
        found.append((f"raw companies(first: {n})", "/bench/raw/companies", bodies))
    lookups = [{"query": COMPANY_BY_ID, "variables": {"id": i}} for i in ids]
    found.append(("S4 company(id), rotating ids", "/graphql", lookups))
    found.append(("raw company(id)", "/bench/raw/company", lookups))
    return found


def check_identical(port: int, token: str, ids: list[str]) -> None:
    """The raw baseline must answer byte for byte what GraphQL answers, before anything is timed."""
    import urllib.request

    def post(path: str, body: dict[str, Any]) -> bytes:
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        url = f"http://127.0.0.1:{port}{path}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            return bytes(response.read())

    for name, path, bodies in scenarios(ids[:3]):
        for body in bodies if path != "/graphql" else []:
            assert post(path, body) == post("/graphql", body), f"{name}: answers differ"


def report(
    results: dict[str, list[dict[str, Any]]], statements: dict[int, int], args: argparse.Namespace
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}); "
        f"server pinned to core 0, load generator to core 1: {'yes' if pinned(0) else 'no (no taskset)'}; "
        f"{args.rounds} round(s) of {args.seconds:g} s, {args.concurrency} connections, after a warm-up.",
        "",
        "Our server and the raw asyncpg baseline (bench/raw.py, same process, same auth, byte-identical",
        "answers). Not yet: the PostGraphile peer (S1 ratio), S5, S6. Median of the rounds, min-max in brackets.",
        "",
        "| scenario | rps | p50 ms | p99 ms | server+PG CPU ms/request | RSS MB | non-2xx |",
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
    lines += ["", "Ratios (GraphQL against the raw baseline in the same process, medians):", ""]
    for n in (10, 50, 200):
        ours = _median(results, f"S1 companies(first: {n})", "cpu_ms_per_request")
        raw = _median(results, f"raw companies(first: {n})", "cpu_ms_per_request")
        lines.append(
            f"- S2 first {n}: CPU per request {ours / raw:.1f}x the raw baseline (target <= 1.3x)"
        )
    ours = _median(results, "S4 company(id), rotating ids", "rps")
    raw = _median(results, "raw company(id)", "rps")
    lines.append(f"- S4: {ours / raw:.2f}x the raw single-row route's rps (target >= 0.8x)")
    lines += [
        "",
        "S3, SQL statements per request (BEGIN/COMMIT and the tenant set_config not counted):",
        "",
    ]
    lines += [
        f"- companies(first: {n}) with contacts, e-mails, phones, owners, deals, stages: {c}"
        for n, c in statements.items()
    ]
    return "\n".join(lines) + "\n"


def _median(results: dict[str, list[dict[str, Any]]], name: str, key: str) -> float:
    values = sorted(r[key] for r in results[name])
    return float(values[len(values) // 2])


def main() -> None:
    parser = argparse.ArgumentParser(description="insight-crm benchmarks")
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds per scenario, one round"
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8777)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    with database() as (database_url, redis_url):
        upgrade_to_head(database_url)
        print("data:", asyncio.run(load(database_url, generate(0.1 if args.quick else 1.0))))
        settings = Settings(
            database_url=database_url,
            redis_url=redis_url,
            data_dir=DATA,
            jwt_public_key=ensure_dev_key(DATA).as_pem(private=False).decode(),
            _env_file=None,
        )  # type: ignore[call-arg]
        token = sign_dev_token(
            settings, DevTokenRequest("bench", "bench@example.de", "admin", 4 * 3600)
        )
        statements = {
            n: asyncio.run(statements_per_request(settings, token, n)) for n in (10, 50, 200)
        }
        ids = asyncio.run(company_ids(database_url))
        results: dict[str, list[dict[str, Any]]] = {}
        with server(database_url, redis_url, args.port) as process:
            check_identical(args.port, token, ids)
            for name, path, bodies in scenarios(ids):
                warm = min(2.0, args.seconds)
                measure(process, args.port, bodies, token, warm, args.concurrency, path)
                results[name] = []
            for _round in range(args.rounds):  # interleaved rounds
                for name, path, bodies in scenarios(ids):
                    result = measure(
                        process, args.port, bodies, token, args.seconds, args.concurrency, path
                    )
                    results[name].append(result)
                    print(name, json.dumps(result))
    text = report(results, statements, args)
    if not args.quick:
        (ROOT / "bench" / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
