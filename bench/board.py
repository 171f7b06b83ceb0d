"""Issue 25, the board summary: `defaultPipeline { stages summary }` as one client asks it,
sequentially (p50 of `runs`), with the bench tenant's deals and with `extra` deals more in
its default pipeline (inserted for the measurement, spread over its stages, then deleted).

    .venv/bin/python bench/run.py --only mutations [--board-deals 294000]

runs this and S5 alone (bench/mutations.py), printed; RESULTS.md is untouched.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
from typing import Any

SUMMARY = """{ defaultPipeline { id stages { id name probability }
  summary { stageId dealCount total { amount currency } weighted { amount currency } } } }"""
EXTRA_TITLE = "S8 board "  # the deals added for the measurement, deleted after it


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _bench_deals(database_url: str, extra: int) -> int:
    """Adds `extra` deals (or, with 0, deletes those added before); the bench tenant's deals."""
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        tenant = await db.fetchval("SELECT id FROM tenant WHERE slug = 'bench'")
        await db.execute(
            "DELETE FROM deal WHERE tenant_id = $1 AND title LIKE $2", tenant, EXTRA_TITLE + "%"
        )
        if extra:
            await db.execute(
                """INSERT INTO deal (tenant_id, title, pipeline_id, stage_id, value, currency)
                SELECT $1, $2 || n, s.pipeline_id, s.id, (n % 100000) * 1.37, 'EUR'
                FROM generate_series(1, $3) n
                JOIN (SELECT pipeline_stage.*, row_number() OVER (ORDER BY position) - 1 AS k,
                             count(*) OVER () AS stages
                      FROM pipeline_stage JOIN pipeline p ON p.id = pipeline_id
                      WHERE p.tenant_id = $1 AND p.is_default) s ON n % s.stages = s.k""",
                tenant,
                EXTRA_TITLE,
                extra,
            )
            await db.execute("ANALYZE deal")
        count: int = await db.fetchval("SELECT count(*) FROM deal WHERE tenant_id = $1", tenant)
    finally:
        await db.close()
    return count


def _post(port: int, token: str) -> dict[str, Any]:
    body = json.dumps({"query": SUMMARY}).encode()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert "errors" not in answer, answer
    return answer


def summary_latency(port: int, token: str, database_url: str, extra: int,
                    runs: int = 30) -> list[dict[str, Any]]:  # fmt: skip
    """p50/p90 ms of the summary, sequentially, at the bench tenant's deals and with `extra`."""
    results = []
    try:
        for added in sorted({0, extra}):
            deals = asyncio.run(_bench_deals(database_url, added))
            for _ in range(3):  # warm-up
                _post(port, token)
            timings = []
            for _ in range(runs):
                start = time.perf_counter()
                answer = _post(port, token)
                timings.append((time.perf_counter() - start) * 1000)
            counted = sum(s["dealCount"] for s in answer["data"]["defaultPipeline"]["summary"])
            timings.sort()
            results.append({
                "tenant_deals": deals,
                "pipeline_deals": counted,
                "p50_ms": round(statistics.median(timings), 2),
                "p90_ms": round(timings[int(len(timings) * 0.9) - 1], 2),
            })  # fmt: skip
            print("board summary", json.dumps(results[-1]), flush=True)
    finally:
        asyncio.run(_bench_deals(database_url, 0))
    return results


def report_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| deals in the tenant (in the default pipeline) | summary p50 ms | p90 ms |",
             "|---|---|---|"]  # fmt: skip
    for r in results:
        lines.append(
            f"| {r['tenant_deals']:,} ({r['pipeline_deals']:,}) | {r['p50_ms']} | {r['p90_ms']} |"
        )
    return lines
