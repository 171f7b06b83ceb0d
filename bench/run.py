"""The benchmark runner: data, server, load, measurements, bench/RESULTS.md.

    .venv/bin/python bench/run.py [--quick] [--seconds 20] [--rounds 3]

What it measures (issue 6): our server, the raw asyncpg baseline mounted in it (bench/raw.py)
and the peer, PostGraphile 5 (bench/peer.py), each pinned to core 0 with the load generator on
core 1 (when taskset exists): S1 at first 10/50/200 against the raw baseline and the peer (rps,
p50/p99, server CPU per request including PostgreSQL backends, peak RSS), S3 (SQL statements per
request, counted in process) and S4 (company by rotating id). Load: wrk with bench/post.lua, or
the asyncio client bench/load.py where wrk can't be had. Outside tools (Node 22, PostGraphile,
wrk) are installed into bench/.tools/ by bench/tools.py; without them the peer is left out.
`--only search` runs S9 alone (bench/search.py: search at 100,000 companies); `--only mutations`
S5 and the board summary (bench/board.py), printed; `--only scale` runs S8 alone (bench/scale.py:
each request at 2,000 and at 100,000 companies).
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.embedded import EmbeddedServers  # noqa: E402
from app.keys import DevTokenRequest, ensure_dev_key, sign_dev_token  # noqa: E402
from app.migrations import upgrade_to_head  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import board, burst, duplicates, fanout, mutations, peer, scale, search, tools  # noqa: E402
from bench.generate import generate, load  # noqa: E402
from bench.scale_report import factors  # noqa: E402

DATA = ROOT / "bench" / ".tools" / "data"
COMPANY_PAGE = """query($first: Int!) { companies(first: $first) { edges { node { id name
  contacts { edges { node { id firstName lastName emails { email } phones { phone } owners { role user { id name } } } } }
  deals { edges { node { id title value currency stage { name } owners { role user { id } } } } } } } } }"""
COMPANY_BY_ID = "query($id: ID!) { company(id: $id) { id name website vatId status } }"
POST_LUA = ROOT / "bench" / "post.lua"
WRK: tools.Wrk | None = None  # set by main(): wrk when it could be installed, else bench/load.py
CLUSTER = DATA  # the embedded cluster in use (database()): whose backends' CPU counts
PEER = "PostGraphile 5"


class Scenario(NamedTuple):
    name: str
    path: str
    bodies: list[dict[str, Any]]
    target: str = "ours"  # "ours": our server (raw routes included); "peer": PostGraphile


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


@contextmanager
def database(data_dir: Path = DATA) -> Iterator[tuple[str, str, str]]:
    """The owner's URL (migrations, loading, checks, the raw baseline), the one the server
    logs in as (a role that owns nothing, as deployed), and Redis'. `data_dir`: the embedded
    cluster's (S9 has its own)."""
    env_db, env_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if env_db and env_redis:
        yield os.environ.get("MIGRATION_DATABASE_URL") or env_db, env_db, env_redis
        return
    global CLUSTER
    CLUSTER = data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedServers(data_dir) as servers:
        assert servers.migration_database_url and servers.database_url and servers.redis_url
        yield servers.migration_database_url, servers.database_url, servers.redis_url


# `--rate-limits`: checked on every request (Redis round trips and all), never refusing.
LIMITS_CHECKED = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_USER": str(10**9),
                  "RATE_LIMIT_TENANT": str(10**9)}  # fmt: skip


@contextmanager
def server(urls: tuple[str, str, str], port: int,
           extra_env: dict[str, str] | None = None) -> Iterator[psutil.Process]:  # fmt: skip
    """`urls`: as `database()` yields them."""
    owner_url, serving_url, redis_url = urls
    key = ensure_dev_key(DATA)
    env = {
        **os.environ,
        "DATABASE_URL": serving_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "REDIS_URL": redis_url,
        "JWT_PUBLIC_KEY": key.as_pem(private=False).decode(),
        "DATA_DIR": str(DATA),
        "LOG_LEVEL": "warning",
        # One user at full speed is what S1-S6 measure: the rate limits would refuse it (S7
        # measures them).
        "RATE_LIMIT_ENABLED": "false",
        **(extra_env or {}),
    }
    # `insight-crm serve --no-worker` with the raw routes (bench/server.py): app/ has none.
    command = [*pinned(0), sys.executable, str(ROOT / "bench" / "server.py"), "--port", str(port)]
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
    """The bench cluster's postgres processes; other clusters on this shared machine (test
    runs) must not count. All postgres processes when the cluster is not ours (DATABASE_URL)."""
    everything = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    try:
        postmaster = int((CLUSTER / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return everything
    ours = [p for p in everything if postmaster in (p.pid, _parent(p))]
    return ours or everything


def _parent(process: psutil.Process) -> int | None:
    try:
        return process.ppid()
    except psutil.Error:
        return None


def peak_rss_mb(process: psutil.Process) -> float:
    """The process's peak resident set so far (VmHWM), its current one where that can't be read."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return process.memory_info().rss / 2**20


def measure(server_process: psutil.Process, port: int, bodies: list[dict[str, Any]],
            token: str | None, seconds: float, concurrency: int, path: str = "/graphql") -> dict[str, Any]:  # fmt: skip
    """One timed run; the server's CPU (with PostgreSQL's) per request. Asserts that every
    answer was a 2xx without GraphQL errors and, for a single body, that all had one size.
    token None: no authorization header (the peer has no authentication)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(json.dumps(b) for b in bodies))
    url = f"http://127.0.0.1:{port}{path}"
    try:
        result = None
        if WRK is not None:
            result = _timed(
                server_process, lambda: _wrk(url, handle.name, token, seconds, concurrency)
            )
        # wrk drops the requests still in flight at its deadline, so a very slow scenario
        # completes too few to count on: the asyncio client waits for them instead.
        if result is None or result["requests"] < 2 * concurrency:
            result = _timed(
                server_process, lambda: _load_py(url, handle.name, token, seconds, concurrency)
            )
    finally:
        os.unlink(handle.name)
    assert result["failures"] == 0, f"{url}: {result['failures']} failed answers {result}"
    if len(bodies) == 1:
        assert len(result["sizes"]) == 1, f"{url}: answers of different sizes {result['sizes']}"
    result["rss_mb"] = peak_rss_mb(server_process)
    return result


def _timed(server_process: psutil.Process, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    def backends() -> dict[int, float]:
        return {p.pid: cpu_seconds([p]) for p in postgres_backends()}

    server_before, pg_before = cpu_seconds([server_process]), backends()
    result = run()
    # A backend born during the run (a pool growing) counts whole; one that ended is lost.
    spent = cpu_seconds([server_process]) - server_before
    spent += sum(t - pg_before.get(pid, 0.0) for pid, t in backends().items())
    result["cpu_ms_per_request"] = 1000 * spent / max(1, result["requests"])
    return result


def _wrk(
    url: str, body_file: str, token: str | None, seconds: float, concurrency: int
) -> dict[str, Any]:
    assert WRK is not None
    headers = ["-H", "content-type: application/json"]
    if token:
        headers += ["-H", f"authorization: Bearer {token}"]
    command = [*pinned(1), str(WRK.binary), "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
               "--timeout", "120s", "-s", str(POST_LUA), *headers, url, "--", body_file]  # fmt: skip
    output = subprocess.run(command, env=WRK.env, check=True, capture_output=True, text=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    return {
        "client": "wrk",
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "failures": raw["non2xx"] + raw["errors"] + raw["socket_errors"],
        "sizes": sorted({raw["min_size"], raw["max_size"]}),
    }


def _load_py(
    url: str, body_file: str, token: str | None, seconds: float, concurrency: int
) -> dict[str, Any]:
    command = [*pinned(1), sys.executable, str(ROOT / "bench" / "load.py"),
               url, body_file, token or "", str(seconds), str(concurrency)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return {"client": "load.py", **json.loads(output)}


async def statements_per_request(settings: Settings, token: str, first: int) -> int:
    import httpx
    from sqlalchemy import event

    from app.web.asgi import create_app

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


def scenarios(ids: list[str], tenant: str | None = None) -> list[Scenario]:
    """Each GraphQL scenario next to its raw baseline and, given the bench tenant's id (the
    peer has no authentication to find it), the peer's equivalent."""
    found: list[Scenario] = []
    for n in (10, 50, 200):
        bodies = [{"query": COMPANY_PAGE, "variables": {"first": n}}]
        found.append(Scenario(f"S1 companies(first: {n})", "/graphql", bodies))
        found.append(Scenario(f"raw companies(first: {n})", "/bench/raw/companies", bodies))
        if tenant is not None:
            found.append(Scenario(f"{PEER} companies(first: {n})", "/graphql",
                                  peer.bodies(tenant, n), "peer"))  # fmt: skip
    lookups = [{"query": COMPANY_BY_ID, "variables": {"id": i}} for i in ids]
    found.append(Scenario("S4 company(id), rotating ids", "/graphql", lookups))
    found.append(Scenario("raw company(id)", "/bench/raw/company", lookups))
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

    for scenario in scenarios(ids[:3]):
        for body in scenario.bodies if scenario.path != "/graphql" else []:
            answer = post(scenario.path, body)
            assert answer == post("/graphql", body), f"{scenario.name}: answers differ"


def check_peer(port: int, peer_port: int, token: str, tenant: str) -> str:
    """The peer must answer the same rows as we do (first 10), before anything is timed."""
    ours = peer.post(f"http://127.0.0.1:{port}/graphql",
                     {"query": COMPANY_PAGE, "variables": {"first": 10}}, token)  # fmt: skip
    theirs = peer.post(f"http://127.0.0.1:{peer_port}/graphql", peer.bodies(tenant, 10)[0])
    return peer.check_equivalent(ours, theirs)


def report(
    results: dict[str, list[dict[str, Any]]],
    statements: dict[int, int],
    args: argparse.Namespace,
    kit: tools.Tools | None = None,
    peer_check: str = "",
) -> str:
    kit = kit or tools.Tools()
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}); "
        f"server pinned to core 0, load generator to core 1: {'yes' if pinned(0) else 'no (no taskset)'}; "
        f"{args.rounds} round(s) of {args.seconds:g} s, {args.concurrency} connections, after a warm-up.",
        "",
        _tools_line(kit),
        "",
        "Our server, the raw asyncpg baseline (bench/raw.py, same process, same auth, byte-identical",
        f"answers) and the peer, {PEER} (bench/peer.py; below), interleaved in each round.",
        "S5 and S6 follow below. Median of the rounds, min-max in brackets. Our server's tenant",
        "transactions run under row-level security (alembic 0005); the raw routes and the peer",
        "connect as the tables' owner, which the policies do not restrict.",
        "",
        "| scenario | rps | p50 ms | p99 ms | server+PG CPU ms/request | peak RSS MB | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rounds in results.items():
        rps = sorted(r["rps"] for r in rounds)
        cpu = sorted(r["cpu_ms_per_request"] for r in rounds)
        mid = rounds[len(rounds) // 2]
        # marked: some round measured by bench/load.py though wrk was there (too few requests)
        fallback = WRK is not None and any(r.get("client") == "load.py" for r in rounds)
        mark = " (a)" if fallback else ""
        lines.append(
            f"| {name}{mark} | {rps[len(rps) // 2]:.1f} [{rps[0]:.1f}-{rps[-1]:.1f}] | {mid['p50_ms']:.1f} | "
            f"{mid['p99_ms']:.1f} | {cpu[len(cpu) // 2]:.2f} [{cpu[0]:.2f}-{cpu[-1]:.2f}] | "
            f"{mid['rss_mb']:.0f} | {sum(r['failures'] for r in rounds)} |"
        )
    if WRK is not None:
        lines += ["", "(a) some round measured by bench/load.py: wrk completed too few requests."]
    lines += ["", "Ratios, per round (median [min-max]):", ""]
    for n in (10, 50, 200):
        ours, raw = f"S1 companies(first: {n})", f"raw companies(first: {n})"
        ratio = _ratio(results, ours, raw, "cpu_ms_per_request")
        lines.append(f"- S2 first {n}: CPU per request {ratio} the raw baseline (target <= 1.3x)")
    for n in (10, 50, 200):
        ours, theirs = f"S1 companies(first: {n})", f"{PEER} companies(first: {n})"
        if theirs in results:
            lines.append(
                f"- S1 first {n}: rps {_ratio(results, ours, theirs, 'rps', 2)} {PEER} (target >= 2.0x); "
                f"CPU per request {_ratio(results, ours, theirs, 'cpu_ms_per_request')} the peer's"
            )
    ratio = _ratio(results, "S4 company(id), rotating ids", "raw company(id)", "rps", 2)
    lines.append(f"- S4: {ratio} the raw single-row route's rps (target >= 0.8x)")
    lines += [
        "",
        "S3, SQL statements per request (BEGIN/COMMIT and the tenant set_config not counted):",
        "",
    ]
    lines += [
        f"- companies(first: {n}) with contacts, e-mails, phones, owners, deals, stages: {c}"
        for n, c in statements.items()
    ]
    lines += _peer_section(kit, peer_check)
    return "\n".join(lines) + "\n"


def _tools_line(kit: tools.Tools) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in kit.versions.items()) or "none"
    client = ("wrk -t1 with bench/post.lua (one Lua POST script, bodies rotated)" if WRK is not None
              else "bench/load.py (asyncio + aiohttp)")  # fmt: skip
    notes = "".join(f" {note}." for note in kit.notes)
    return f"Tools in bench/.tools: {versions}. Load generator: {client}.{notes}"


def _peer_section(kit: tools.Tools, peer_check: str) -> list[str]:
    if not peer_check:
        return ["", f"The peer, {PEER}, was not measured: {' '.join(kit.notes) or 'not installed'}"]
    return [
        "",
        f"The peer: PostGraphile {kit.versions.get('postgraphile', '?')} (amber preset) on Node "
        f"{kit.versions.get('node', '?')}, one process pinned to core 0,",
        "NODE_ENV=production, a pool of 10 connections, no watch mode, GraphiQL or explain. It does no",
        "authentication: ours verifies an RS256 JWT and checks its revocation in Redis on every request,",
        "the peer is told the tenant in a `condition` argument. Orders it lacks were added in its config",
        "(lower(name), lower(last_name), owner role) so that every list is ordered as ours is; it answers",
        "each page with one SQL statement. Its CPU: the node process plus PostgreSQL's backends.",
        f"Checked before timing, companies(first: 10): {peer_check}.",
        "",
        "Its query (companies(first: N) with the same nested lists as ours):",
        "",
        "```graphql",
        peer.PEER_PAGE,
        "```",
    ]


def _ratio(
    results: dict[str, list[dict[str, Any]]], a: str, b: str, key: str, digits: int = 1
) -> str:
    """a's value over b's, round by round (they ran interleaved): median [min-max]."""
    ratios = sorted(x[key] / y[key] for x, y in zip(results[a], results[b], strict=True))
    low, mid, high = ratios[0], ratios[len(ratios) // 2], ratios[-1]
    return f"{mid:.{digits}f}x [{low:.{digits}f}-{high:.{digits}f}]"


class Target(NamedTuple):
    process: psutil.Process  # whose CPU and peak RSS count, with PostgreSQL's backends
    port: int
    token: str | None


def _measure(targets: dict[str, Target], scenario: Scenario, seconds: float,
             concurrency: int) -> dict[str, Any]:  # fmt: skip
    process, port, token = targets[scenario.target]
    return measure(process, port, scenario.bodies, token, seconds, concurrency, scenario.path)


def _median(results: dict[str, list[dict[str, Any]]], name: str, key: str) -> float:
    values = sorted(r[key] for r in results[name])
    return float(values[len(values) // 2])


def bench_settings(urls: tuple[str, str, str]) -> Settings:
    """The settings the in-process measurements and token signing use (`urls`: database()'s)."""
    database_url, serving_url, redis_url = urls
    return Settings(
        database_url=serving_url,
        migration_database_url=database_url,
        redis_url=redis_url,
        data_dir=DATA,
        jwt_public_key=ensure_dev_key(DATA).as_pem(private=False).decode(),
        _env_file=None,
    )  # type: ignore[call-arg]


def main() -> None:
    parser = argparse.ArgumentParser(description="insight-crm benchmarks")
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds per scenario, one round"
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--peer-port", type=int, default=8778)
    parser.add_argument("--only", choices=["burst", "reads", "search", "duplicates", "mutations",
                                           "scale"],
                        help="burst: S7 alone, updating its section of RESULTS.md; reads: "
                             "S1-S4 alone, printed (RESULTS.md untouched); search: S9 alone "
                             "(bench/search.py), on its own cluster, updating its section; "
                             "duplicates: S10 alone (bench/duplicates.py), on S9's cluster; "
                             "mutations: S5 and the board summary (bench/board.py), printed; "
                             "scale: S8 alone (bench/scale.py), on a cluster per scale, "
                             "updating its section")  # fmt: skip
    parser.add_argument("--scale-factor", type=factors, default=[50.0],
                        help="S8: the larger tenants' bench/generate.py scales, e.g. 50 "
                             "(100,000 companies) or 10,50, measured next to scale 1 (2,000)")  # fmt: skip
    parser.add_argument("--scale-runs", type=int, default=30,
                        help="S8: timed runs of each request per scale, after the warm-up")  # fmt: skip
    parser.add_argument("--scale-warmup", type=int, default=3,
                        help="S8: untimed runs of each request per scale first")  # fmt: skip
    parser.add_argument("--board-deals", type=int, default=0,
                        help="--only mutations: the summary again with this many deals more")  # fmt: skip
    parser.add_argument("--search-scale", type=float, default=1.0,
                        help="S9: 1.0 is 100,000 companies and 500,000 contacts")  # fmt: skip
    parser.add_argument("--search-seconds", type=float, default=5, help="S9: seconds per query")
    parser.add_argument("--search-concurrency", type=int, default=1,
                        help="S9: connections (1: one user typing, latency without queueing)")  # fmt: skip
    parser.add_argument("--rate-limits", action="store_true",
                        help="S1-S6 with the rate limits checked, at budgets too large to "
                             "refuse anything: what checking them costs")  # fmt: skip
    parser.add_argument("--burst-seconds", type=float, default=20, help="S7: seconds per phase")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.burst_seconds = 3, 1, 5
        args.search_seconds = min(args.search_seconds, 2)
        args.scale_runs, args.scale_warmup = min(args.scale_runs, 5), min(args.scale_warmup, 1)
    global WRK
    kit = tools.ensure()  # quick when bench/run.sh installed them already
    WRK = kit.wrk
    for note in kit.notes:
        print("bench:", note, file=sys.stderr)
    if args.only == "search":
        harness = search.Harness(database, server, measure, bench_settings, DATA,
                                 ROOT / "bench" / "RESULTS.md")  # fmt: skip
        search.run_s9(args, harness)
        return
    if args.only == "scale":
        scale.run_s8(args, scale.Harness(database, server, bench_settings, DATA,
                                         ROOT / "bench" / "RESULTS.md"))  # fmt: skip
        return
    if args.only == "duplicates":
        harness = search.Harness(database, server, measure, bench_settings, DATA,
                                 ROOT / "bench" / "RESULTS.md")  # fmt: skip
        duplicates.run_s10(args, harness)
        return
    with database() as urls:
        database_url, serving_url, _redis_url = urls
        upgrade_to_head(database_url, serving_url)
        print("data:", asyncio.run(load(database_url, generate(0.1 if args.quick else 1.0))))
        settings = bench_settings(urls)
        if args.only == "burst":
            s7 = _run_s7(args, settings, urls)
            _update_section(burst.report_lines(s7), args.quick)
            return
        token = sign_dev_token(
            settings, DevTokenRequest("bench", "bench@example.de", "admin", 4 * 3600)
        )
        statements = {
            n: asyncio.run(statements_per_request(settings, token, n)) for n in (10, 50, 200)
        }
        mutation_statements = mutations.count_statements(settings, token)  # S5, in process
        if args.only == "mutations":
            _run_mutations(args, urls, token, mutation_statements)
            return
        ids = asyncio.run(company_ids(database_url))
        tenant = asyncio.run(peer.bench_tenant(database_url)) if kit.postgraphile else None
        results: dict[str, list[dict[str, Any]]] = {}
        peer_check = ""
        peer_server = (peer.peer(kit, database_url, args.peer_port, pinned(0)) if tenant
                       else nullcontext(None))  # fmt: skip
        limits = LIMITS_CHECKED if args.rate_limits else {}
        with server(urls, args.port, limits) as process, peer_server as node:
            targets = {"ours": Target(process, args.port, token),
                       "peer": Target(node, args.peer_port, None)}  # fmt: skip
            check_identical(args.port, token, ids)
            if tenant:
                peer_check = check_peer(args.port, args.peer_port, token, tenant)
                print("peer:", peer_check)
            for scenario in scenarios(ids, tenant):
                _measure(targets, scenario, min(2.0, args.seconds), args.concurrency)  # warm-up
                results[scenario.name] = []
            for _round in range(args.rounds):  # interleaved rounds
                for scenario in scenarios(ids, tenant):
                    result = _measure(targets, scenario, args.seconds, args.concurrency)
                    results[scenario.name].append(result)
                    print(scenario.name, json.dumps(result))
            if args.only == "reads":
                print(report(results, statements, args, kit, peer_check))
                return
            s5 = mutations.run_s5(process, args.port, token, database_url, seconds=args.seconds,
                                  concurrency=args.concurrency, rounds=args.rounds)  # fmt: skip
        # S6 starts a fresh server per path (idle RSS of 1,000 sockets on an unused heap).
        s6 = fanout.run_s6(lambda: server(urls, args.port, limits), args.port, token,
                           database_url, **fanout.sizes(args.quick))  # fmt: skip
        s7 = _run_s7(args, settings, urls)
    text = report(results, statements, args, kit, peer_check)
    text += "\n".join(["", *mutations.report_lines(s5, mutation_statements), "",
                       *fanout.report_lines(s6), "", *burst.report_lines(s7)]) + "\n"  # fmt: skip
    if not args.quick:
        (ROOT / "bench" / "RESULTS.md").write_text(text)
    print(text)


def _run_s7(args: argparse.Namespace, settings: Settings,
            urls: tuple[str, str, str]) -> dict[str, Any]:  # fmt: skip
    database_url = urls[0]

    def sign(tenant: str, email: str) -> str:
        return sign_dev_token(settings, DevTokenRequest(tenant, email, "admin", 4 * 3600))

    return burst.run_s7(lambda env: server(urls, args.port, env), args.port,
                        sign, database_url, WRK, seconds=args.burst_seconds,
                        rounds=1 if args.quick else 2)  # fmt: skip


def _run_mutations(args: argparse.Namespace, urls: tuple[str, str, str], token: str,
                   statements: dict[str, dict[str, Any]]) -> None:  # fmt: skip
    """S5 and the board summary alone (issue 25), printed."""
    with server(urls, args.port) as process:
        summary = board.summary_latency(args.port, token, urls[0], args.board_deals)
        s5 = mutations.run_s5(process, args.port, token, urls[0], seconds=args.seconds,
                              concurrency=args.concurrency, rounds=args.rounds)  # fmt: skip
    print("\n".join([*mutations.report_lines(s5, statements), "", *board.report_lines(summary)]))


def _update_section(lines: list[str], quick: bool) -> None:
    text = "\n".join(lines) + "\n"
    if not quick:
        results = ROOT / "bench" / "RESULTS.md"
        results.write_text(burst.replace_section(results.read_text(), lines))
    print(text)


if __name__ == "__main__":
    main()
