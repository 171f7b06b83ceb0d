"""S7: one user's burst next to another tenant's steady load, without and with the rate limits
(issue 21: a 20-second burst from one user of tenant A took tenant B's median from 11 to 196 ms).

Tenant B ("bench-other-0") sends a steady, light, open-loop load of typical queries (`me`, a
company by id, a page of ten names), RATE requests a second whatever the answers take; tenant
A's one user ("bench", the 2,000-company tenant) sends the company page at first: 50 (61 units)
as fast as 8 connections can, not waiting for Retry-After. Each phase lasts SECONDS:

    B alone, then B under A's burst: on a server with RATE_LIMIT_ENABLED=false, then on one
    with the default budgets (3,000 units a minute per user, 20,000 per tenant).

Server pinned to core 0, both load generators to core 1 (A's is wrk when bench/.tools has it,
else bench/load.py; B's is the open-loop client below). Reported: B's p50/p99 per phase and A's
requests served and refused (429).

    bench/run.sh --only burst            this scenario alone; updates its section of RESULTS.md
    python bench/burst.py steady URL TOKEN BODY_FILE SECONDS RATE   (B's client)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TENANT_A, TENANT_B = "bench", "bench-other-0"
BURST_CONNECTIONS = 8
STEADY_RATE = 20.0  # B's requests per second
COMPANY_PAGE = """query($first: Int!) { companies(first: $first) { edges { node { id name
  contacts { edges { node { id firstName lastName emails { email } phones { phone } owners { role user { id name } } } } }
  deals { edges { node { id title value currency stage { name } owners { role user { id } } } } } } } } }"""
ME = "{ me { user { id email } tenant { slug } roles } }"
COMPANY_BY_ID = "query($id: ID!) { company(id: $id) { id name website vatId status } }"
NAMES = "{ companies(first: 10) { edges { node { id name status } } } }"
SECTION = "## S7: one user's burst next to another tenant's steady load"
PHASES = (("off", "alone"), ("off", "burst"), ("on", "alone"), ("on", "burst"))


async def tenant_b_companies(database_url: str, limit: int = 100) -> list[str]:
    import asyncpg

    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        rows = await connection.fetch(
            "SELECT c.id FROM company c JOIN tenant t ON t.id = c.tenant_id WHERE t.slug = $1"
            " ORDER BY c.id LIMIT $2",
            TENANT_B,
            limit,
        )
    finally:
        await connection.close()
    return [str(row["id"]) for row in rows]


def steady_bodies(company_ids: list[str]) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for company_id in company_ids:
        bodies += [
            {"query": ME},
            {"query": COMPANY_BY_ID, "variables": {"id": company_id}},
            {"query": NAMES},
        ]
    return bodies


@contextmanager
def _body_file(bodies: list[dict[str, Any]]) -> Iterator[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.write("\n".join(json.dumps(body) for body in bodies))
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def run_s7(
    start_server: Callable[[dict[str, str]], AbstractContextManager[Any]],
    port: int,
    sign: Callable[[str, str], str],
    database_url: str,
    wrk: Any,
    *,
    seconds: float = 20.0,
    rounds: int = 1,
) -> dict[str, Any]:
    """B's latency and A's answers per phase (see the module's docstring). `start_server(env)`
    runs the bench server with these environment variables; `sign(tenant, email)` makes a
    token; `wrk` is bench/tools.py's Wrk or None."""
    from bench.mutations import pinned

    url = f"http://127.0.0.1:{port}/graphql"
    started = {"at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "load": os.getloadavg()[0], "cores": os.cpu_count()}  # fmt: skip
    steady = steady_bodies(asyncio.run(tenant_b_companies(database_url)))
    token_b = sign(TENANT_B, "steady@example.de")
    phases: dict[str, list[dict[str, Any]]] = {f"{lim} {kind}": [] for lim, kind in PHASES}
    with (
        _body_file(steady) as steady_file,
        _body_file([{"query": COMPANY_PAGE, "variables": {"first": 50}}]) as burst_file,
    ):
        for round_ in range(rounds):
            for limits in ("off", "on"):
                with start_server({"RATE_LIMIT_ENABLED": "true" if limits == "on" else "false"}):
                    _warm_up(url, token_b, sign(TENANT_A, "warm-up@example.de"), steady)
                    for kind in ("alone", "burst"):
                        token_a = sign(TENANT_A, f"burst-{limits}-{round_}@example.de")
                        result = _phase(url, steady_file, token_b, burst_file, token_a,
                                        seconds, kind == "burst", wrk, pinned(1))  # fmt: skip
                        phases[f"{limits} {kind}"].append(result)
                        print("S7", limits, kind, json.dumps(result), flush=True)
    for name, results in phases.items():
        failed = [r["steady"]["failures"] for r in results if r["steady"]["failures"]]
        assert not failed, f"S7 {name}: tenant B had failed answers {failed}"
    return {"seconds": seconds, "rounds": rounds, "phases": phases, "started": started,
            "burst_client": "wrk" if wrk is not None else "bench/load.py"}  # fmt: skip


def _warm_up(url: str, token_b: str, token_a: str, steady: list[dict[str, Any]]) -> None:
    import urllib.request

    def post(body: dict[str, Any], token: str) -> None:
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    for body in steady[:30]:
        post(body, token_b)
    post({"query": COMPANY_PAGE, "variables": {"first": 50}}, token_a)


def _phase(url: str, steady_file: str, token_b: str, burst_file: str, token_a: str,
           seconds: float, burst: bool, wrk: Any, pin: list[str]) -> dict[str, Any]:  # fmt: skip
    steady_command = [*pin, sys.executable, __file__, "steady", url, token_b, steady_file,
                      str(seconds), str(STEADY_RATE)]  # fmt: skip
    steady = subprocess.Popen(steady_command, stdout=subprocess.PIPE, text=True)
    burst_result = _burst(url, burst_file, token_a, seconds, wrk, pin) if burst else None
    output, _ = steady.communicate(timeout=seconds + 120)
    return {"steady": json.loads(output), "burst": burst_result}


def _burst(url: str, body_file: str, token: str, seconds: float, wrk: Any,
           pin: list[str]) -> dict[str, Any]:  # fmt: skip
    """A's closed loop: requests answered, and how many were refused (non-2xx)."""
    if wrk is not None:
        command = [*pin, str(wrk.binary), "-t1", f"-c{BURST_CONNECTIONS}", f"-d{round(seconds)}s",
                   "--timeout", "60s", "-s", str(ROOT / "bench" / "post.lua"),
                   "-H", "content-type: application/json", "-H", f"authorization: Bearer {token}",
                   url, "--", body_file]  # fmt: skip
        output = subprocess.run(command, env=wrk.env, check=True, capture_output=True,
                                text=True).stdout  # fmt: skip
        line = next(x for x in output.splitlines() if x.startswith("BENCH_JSON "))
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        return {"requests": raw["requests"], "refused": raw["non2xx"],
                "socket_errors": raw["socket_errors"]}  # fmt: skip
    command = [*pin, sys.executable, str(ROOT / "bench" / "load.py"), url, body_file, token,
               str(seconds), str(BURST_CONNECTIONS)]  # fmt: skip
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    # load.py counts an answer with errors as failed: here, a refusal (the page has none)
    return {"requests": result["requests"], "refused": result["failures"], "socket_errors": 0}


# B's client: open loop, RATE requests a second on schedule, each timed from its send.


async def steady(url: str, token: str, bodies: list[bytes], seconds: float, rate: float) -> dict[str, Any]:  # fmt: skip
    import aiohttp

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    latencies: list[float] = []
    failures = 0

    async def one(session: aiohttp.ClientSession, body: bytes) -> None:
        nonlocal failures
        started = time.perf_counter()
        try:
            async with session.post(url, data=body) as response:
                payload = await response.read()
            if response.status != 200 or b'"errors"' in payload:
                failures += 1
        except aiohttp.ClientError:
            failures += 1
        latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(headers=headers) as session:
        began = time.perf_counter()
        tasks = []
        count = int(seconds * rate)
        for index in range(count):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, bodies[index % len(bodies)])))
        await asyncio.gather(*tasks)
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "failures": failures,
    }


def report_lines(result: dict[str, Any]) -> list[str]:
    phases = result["phases"]
    rounds = result["rounds"]
    lines = [
        SECTION,
        "",
        f"Tenant B: `me`, a company by id and a page of ten names, rotating, open loop at "
        f"{STEADY_RATE:g} requests/s. Tenant A: one user sends the company page at first: 50 "
        f"(61 units) as fast as {BURST_CONNECTIONS} connections can ({result['burst_client']}), "
        "ignoring Retry-After. Limits on: the default budgets (3,000 units a minute per user, "
        f"20,000 per tenant). {rounds} round(s) of {result['seconds']:g} s per phase, each "
        "round on fresh servers (one per setting) and a fresh user of A; B's figures per round "
        "(round 1 / round 2 ...), A's summed.",
        "",
        f"Run {result['started']['at']}; load average {result['started']['load']:.1f} on "
        f"{result['started']['cores']} cores when it started (other work shares this machine: "
        "compare phases of one run, not runs).",
        "",
        "| limits | phase | B p50 ms | B p99 ms | B requests | A requests | A served | A refused (429) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for limits, kind in PHASES:
        runs = phases[f"{limits} {kind}"]
        p50 = " / ".join(f"{r['steady']['p50_ms']:.1f}" for r in runs)
        p99 = " / ".join(f"{r['steady']['p99_ms']:.1f}" for r in runs)
        b_requests = sum(r["steady"]["requests"] for r in runs)
        bursts = [r["burst"] for r in runs if r["burst"] is not None]
        if bursts:
            total = sum(b["requests"] for b in bursts)
            refused = sum(b["refused"] for b in bursts)
            a_cells = f"{total} | {total - refused} | {refused}"
        else:
            a_cells = "- | - | -"
        phase = "B alone" if kind == "alone" else "B under A's burst"
        lines.append(f"| {limits} | {phase} | {p50} | {p99} | {b_requests} | {a_cells} |")
    return [*lines, "", *NOTES]


NOTES = [
    "With the limits, A's user is served its budget (3,000 units: 49 pages) in the first seconds",
    "of a burst, which is where B's p99 comes from; the rest is refused. A refusal is cheap but",
    "not free: the token is still verified and looked up in the process's view of the",
    "revocations, though after the first refusal the charge needs no Redis call (the process",
    "refuses the rest of the burst itself while no unit fits); thousands a second still share",
    "the server's core with B. A served request's charge is one Redis script call (both",
    "budgets, app/rate_limit_script.py): compare B alone with the limits off and on.",
]


def replace_section(text: str, lines: list[str]) -> str:
    """RESULTS.md with this scenario's section replaced (or added at the end)."""
    section = "\n".join(lines) + "\n"
    start = text.find(SECTION)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(SECTION))
    return text[:start] + section + ("" if end < 0 else text[end:])


def main() -> None:
    kind, url, token, body_file, seconds, rate = sys.argv[1:7]
    assert kind == "steady"
    with open(body_file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    print(json.dumps(asyncio.run(steady(url, token, bodies, float(seconds), float(rate)))))


if __name__ == "__main__":
    main()
