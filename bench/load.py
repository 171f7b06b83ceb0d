"""A small closed-loop HTTP load generator (asyncio + aiohttp): N connections send the same
POST again and again for a while; it reports requests/s, latency percentiles, non-2xx answers
and response sizes. Run it pinned to the core the server does not use.

    python bench/load.py URL BODY_FILE TOKEN SECONDS CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def _worker(
    session: aiohttp.ClientSession, url: str, bodies: list[bytes], deadline: float, out: dict
) -> None:  # type: ignore[type-arg]
    index = 0
    while time.perf_counter() < deadline:
        body = bodies[index % len(bodies)]
        index += 1
        started = time.perf_counter()
        async with session.post(url, data=body) as response:
            payload = await response.read()
        out["latencies"].append(time.perf_counter() - started)
        out["sizes"].add(len(payload))
        if response.status >= 300 or b'"errors"' in payload:
            out["failures"] += 1


async def run(url: str, bodies: list[bytes], token: str, seconds: float, concurrency: int) -> dict:  # type: ignore[type-arg]
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    out: dict = {"latencies": [], "sizes": set(), "failures": 0}  # type: ignore[type-arg]
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(_worker(session, url, bodies, deadline, out) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - started
    latencies = sorted(out["latencies"])
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": 1000 * latencies[count // 2] if count else None,
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else None,
        "failures": out["failures"],
        "sizes": sorted(out["sizes"])[:5],
    }


def main() -> None:
    url, body_file, token, seconds, concurrency = sys.argv[1:6]
    with open(body_file, "rb") as handle:
        bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    result = asyncio.run(run(url, bodies, token, float(seconds), int(concurrency)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
