"""Issue 25, the board summary: `defaultPipeline { stages summary }` as one client asks it,
sequentially (p50 of `runs`), with the bench tenant's deals and with `extra` deals more in
its default pipeline (inserted for the measurement, spread over its stages, then deleted).

    .venv/bin/python bench/run.py --only mutations [--board-deals 294000]

runs this and S5 alone (bench/mutations.py), printed; RESULTS.md is untouched.

    .venv/bin/python bench/board.py [EXTRA]

prints the summary's statement before (the aggregate over the deals) and after (the figures of
`stage_figure`) under `EXPLAIN (ANALYZE, BUFFERS)` as `crm_tenant` on the bench cluster (run
bench/run.py first: it loads the data), at the bench tenant's deals and with EXTRA more.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
        removed = await db.execute(
            "DELETE FROM deal WHERE tenant_id = $1 AND title LIKE $2", tenant, EXTRA_TITLE + "%"
        )
        if removed != "DELETE 0":  # their dead rows would be read by the next measurement
            await db.execute("VACUUM (ANALYZE) deal")
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


# The summary's statement as the server sends it (tenant filter included), before and after.
_COLUMNS = "pipeline_stage.pipeline_id, pipeline_stage.id, pipeline_stage.position"
_GROUPED = "GROUP BY pipeline_stage.pipeline_id, pipeline_stage.id, {0}.currency " \
    "ORDER BY pipeline_stage.position, {0}.currency"  # fmt: skip
STATEMENTS = {
    "aggregate over the deals (before)": f"""SELECT {_COLUMNS}, deal.currency,
      count(deal.id), coalesce(sum(deal.value), 0),
      coalesce(sum(round(deal.value * pipeline_stage.probability / 100, 2)), 0)
    FROM pipeline_stage LEFT OUTER JOIN deal ON deal.stage_id = pipeline_stage.id
      AND deal.tenant_id = $1 AND deal.deleted_at IS NULL
    WHERE pipeline_stage.pipeline_id IN ($2) AND pipeline_stage.tenant_id = $1
    {_GROUPED.format("deal")}""",
    "figures (after)": f"""SELECT {_COLUMNS}, stage_figure.currency,
      coalesce(sum(stage_figure.deal_count), 0), coalesce(sum(stage_figure.value_sum), 0),
      coalesce(sum(stage_figure.weighted_sum), 0)
    FROM pipeline_stage LEFT OUTER JOIN stage_figure
      ON stage_figure.stage_id = pipeline_stage.id AND stage_figure.tenant_id = $1
    WHERE pipeline_stage.pipeline_id IN ($2) AND pipeline_stage.tenant_id = $1
    {_GROUPED.format("stage_figure")}""",
}


async def _plans(owner_url: str, serving_url: str, runs: int = 12) -> list[dict[str, Any]]:
    import asyncpg

    owner = await asyncpg.connect(_dsn(owner_url))
    try:
        tenant = await owner.fetchval("SELECT id FROM tenant WHERE slug = 'bench'")
        pipeline = await owner.fetchval(
            "SELECT id FROM pipeline WHERE tenant_id = $1 AND is_default", tenant
        )
    finally:
        await owner.close()
    serving = await asyncpg.connect(_dsn(serving_url))
    found = []
    try:
        for name, statement in STATEMENTS.items():
            times, plan = [], {}
            for _ in range(runs):
                async with serving.transaction():
                    await serving.execute(
                        "SELECT set_config('app.tenant_id', $1, true), "
                        "set_config('role', 'crm_tenant', true)",
                        str(tenant),
                    )
                    explained = await serving.fetchval(
                        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", tenant, pipeline
                    )
                plan = json.loads(explained)[0]
                times.append(plan["Execution Time"])
            top = plan["Plan"]
            buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            found.append({"statement": name, "median_ms": round(statistics.median(times), 2),
                          "buffers": buffers})  # fmt: skip
    finally:
        await serving.close()
    return found


def main() -> None:
    from app.embedded import EmbeddedServers

    extra = int(sys.argv[1]) if len(sys.argv) > 1 else 294000
    with EmbeddedServers(ROOT / "bench" / ".tools" / "data") as servers:
        owner, serving = servers.migration_database_url, servers.database_url
        assert owner and serving
        try:
            for added in (0, extra):
                deals = asyncio.run(_bench_deals(owner, added))
                for found in asyncio.run(_plans(owner, serving)):
                    print(json.dumps({"tenant_deals": deals, **found}), flush=True)
        finally:
            asyncio.run(_bench_deals(owner, 0))


if __name__ == "__main__":
    main()
