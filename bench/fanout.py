"""S6: N WebSocket subscribers on one deal board, deal changes published at a fixed rate, our
`dealChanged` subscription (graphql-transport-ws on /graphql) against the raw fan-out route
(/bench/raw/deal-stream in bench/raw.py, through the same EventHub).

    run_s6(...)            both paths, one after the other (ours first), for bench/run.py
    report_lines(...)      RESULTS.md's S6 section
    python bench/fanout.py OPTIONS_JSON    the subscriber load client (one path)

How one path is measured, all inside the load client (pinned to core 1):
1. the server's RSS; then N connections, opened 50 at a time, each subscribed to the board;
2. warm-up: one deal change at a time until every connection has had a delivery (so every
   subscription is live), then 2 s of quiet and the server's RSS again: RSS per 1,000 idle
   subscriptions = the difference, scaled to 1,000;
3. `rate` changes per second for `seconds` (each one `updateDeal` of a title over HTTP on
   /graphql, for both paths: the same events, from the same outbox and relay), then waiting
   until every connection has every event (or a timeout): deliveries/s, latency p50/p99,
   server + PostgreSQL CPU per 1,000 deliveries, missing and duplicate deliveries, errors.

Latency of a delivery: receipt time minus the event's `occurredAt` (the writing transaction's
start, PostgreSQL's now(), same machine clock), so it includes the mutation's own commit, the
relay, Redis and the fan-out: an upper bound. Both paths select the event's `occurredAt`
(the subscription document below adds it to the issue's selection).

The client offers no per-message compression (browsers do; it would add the same zlib cost
per message to both paths). 1,000 sockets need more than the usual 1,024 open files: the
client raises its own RLIMIT_NOFILE (resource.setrlimit) and run_s6 the server's (psutil's
prlimit) to the hard limit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEAL_CHANGED = (
    "subscription($p: ID!) { dealChanged(pipelineId: $p) { event { id type occurredAt } "
    "dealId deal { id title stage { name } } onBoard } }"
)
UPDATE_DEAL = (
    "mutation($id: ID!, $input: UpdateDealInput!) { updateDeal(id: $id, input: $input) { id } }"
)
PATHS = {"graphql": "S6 dealChanged (graphql-transport-ws)", "raw": "raw deal-stream WebSocket"}
OPEN_AT_ONCE = 50
BOARD_DEALS = 100  # the publisher rotates over these: each changes every 100/rate seconds


@dataclass
class Options:
    path: str  # "graphql" or "raw"
    port: int
    token: str
    pipeline_id: str
    deal_ids: list[str]
    server_pid: int
    postmaster_pid: int
    subscribers: int = 1000
    rate: float = 5.0
    seconds: float = 20.0
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6])


def raise_open_files(pid: int | None = None) -> int:
    """Soft RLIMIT_NOFILE up to the hard limit, for this process or (prlimit) another one."""
    import resource

    import psutil

    def wanted(soft: int, hard: int) -> int:  # an unlimited hard limit is no valid soft one
        return 65536 if hard == resource.RLIM_INFINITY else max(soft, hard)

    if pid is None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != wanted(soft, hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted(soft, hard), hard))
        return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    process = psutil.Process(pid)
    soft, hard = process.rlimit(psutil.RLIMIT_NOFILE)
    if soft != wanted(soft, hard):
        process.rlimit(psutil.RLIMIT_NOFILE, (wanted(soft, hard), hard))
    return int(process.rlimit(psutil.RLIMIT_NOFILE)[0])


# The load client. A minimal WebSocket client on asyncio's Protocol rather than the
# `websockets` library: 5,000 messages/s through a full client library on one core would take
# a large share of that core, and every message of a 1,000-socket burst would wait for the
# ones before it, which would count as latency. Here a message is stamped when its bytes
# arrive and parsed after the run.


class Subscriber(asyncio.Protocol):
    """One connection: the upgrade, then the server's (unmasked, unfragmented) frames."""

    def __init__(self, path: str, subprotocol: str | None) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            + (f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else "")
            + "\r\n"
        ).encode()
        self.transport: Any = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.reply: asyncio.Future[bytes] | None = None  # a handshake message awaited
        self.received: list[tuple[float, bytes]] = []  # (arrival time, message)
        self.mark = 0  # where the measured phase starts in `received`
        self.errors: list[str] = []
        self.closing = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(head[:200].decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        while (frame := self._frame()) is not None:
            self._on_frame(*frame, now)

    def _frame(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        length, start = buffer[1] & 0x7F, 2
        if length >= 126:
            start = 4 if length == 126 else 10
            if len(buffer) < start:
                return None
            length = int.from_bytes(buffer[2:start], "big")
        if len(buffer) < start + length:
            return None
        opcode, payload = buffer[0] & 0x0F, bytes(buffer[start : start + length])
        del buffer[: start + length]
        return opcode, payload

    def _on_frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (1, 2):  # text (raw route) or binary (strawberry sends its JSON as bytes)
            if self.reply is not None and not self.reply.done():
                self.reply.set_result(payload)
            else:
                self.received.append((now, payload))
        elif opcode == 9:
            self.send(payload, opcode=10)
        elif opcode == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self.errors.append(f"closed by the server: {code} {payload[2:100]!r}")
        elif opcode != 10:
            self.errors.append(f"unexpected frame opcode {opcode}")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the upgrade"))
        if not self.closing:
            self.errors.append(f"connection lost: {exc}")

    def send(self, payload: bytes, opcode: int = 1) -> None:
        """A masked frame, as a client must send."""
        size = len(payload)
        if size < 126:
            header = bytes([0x80 | opcode, 0x80 | size])
        else:
            header = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
        mask = os.urandom(4)
        key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")
        self.transport.write(header + mask + masked)

    async def ask(self, message: dict[str, Any], within: float = 60) -> dict[str, Any]:
        self.reply = asyncio.get_running_loop().create_future()
        self.send(json.dumps(message).encode())
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(self.reply, within))
        return answer

    def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            self.send((1000).to_bytes(2, "big"), opcode=8)
            self.transport.close()


async def _subscribe(options: Options) -> Subscriber:
    loop = asyncio.get_running_loop()
    graphql = options.path == "graphql"
    path, subprotocol = ("/graphql", "graphql-transport-ws") if graphql else ("/bench/raw/deal-stream", None)  # fmt: skip
    _transport, subscriber = await loop.create_connection(
        lambda: Subscriber(path, subprotocol), "127.0.0.1", options.port
    )
    await asyncio.wait_for(subscriber.upgraded, 60)
    authorization = f"Bearer {options.token}"
    if not graphql:
        hello = {"authorization": authorization, "pipelineId": options.pipeline_id}
        subscriber.send(json.dumps(hello).encode())
        return subscriber
    ack = await subscriber.ask({"type": "connection_init", "payload": {"authorization": authorization}})  # fmt: skip
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    subscribe = {"query": DEAL_CHANGED, "variables": {"p": options.pipeline_id}}
    subscriber.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}).encode())
    return subscriber


async def _open_all(options: Options, errors: list[str]) -> list[Subscriber]:
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one() -> Subscriber | None:
        async with gate:
            try:
                return await _subscribe(options)
            except Exception as error:
                errors.append(f"connect: {type(error).__name__}: {error}"[:300])
                return None

    opened = await asyncio.gather(*(one() for _ in range(options.subscribers)))
    return [s for s in opened if s is not None]


class Publisher:
    """updateDeal of a title over HTTP, one deal after the other."""

    def __init__(self, session: Any, options: Options) -> None:
        self.session, self.options = session, options
        self.count = 0
        self.failures: list[str] = []

    async def change(self) -> None:
        n, deals = self.count, self.options.deal_ids
        self.count += 1
        variables = {"id": deals[n % len(deals)], "input": {"title": f"S6 {self.options.run} {n}"}}
        url = f"http://127.0.0.1:{self.options.port}/graphql"
        async with self.session.post(url, json={"query": UPDATE_DEAL, "variables": variables}) as response:  # fmt: skip
            payload = await response.read()
        if response.status >= 300 or b'"errors"' in payload:
            self.failures.append(payload[:300].decode(errors="replace"))

    async def at_rate(self, rate: float, seconds: float) -> None:
        """Fixed schedule, not a closed loop: a slow answer does not delay the next change."""
        started, tasks = time.perf_counter(), []
        for tick in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + tick / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(self.change()))
        await asyncio.gather(*tasks)


async def _until(condition: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _warm_up(subscribers: list[Subscriber], publisher: Publisher) -> bool:
    """Changes until every subscription has had one: all are live from here on."""
    for _attempt in range(5):
        await publisher.change()
        if await _until(lambda: all(s.received for s in subscribers), 10 + len(subscribers) / 50):
            return True
    return False


def _percentile(values: list[float], share: float) -> float | None:
    return values[min(len(values) - 1, int(len(values) * share))] if values else None


def _deliveries(subscriber: Subscriber) -> tuple[list[tuple[float, float, str]], int]:
    """The measured phase's (arrival, occurredAt, event id) per distinct event, and the
    duplicates;
    anything that is not a dealChanged result is an error of the subscriber."""
    seen: set[str] = set()
    found, duplicates = [], 0
    for arrived, payload in subscriber.received[subscriber.mark :]:
        message = json.loads(payload)
        if "type" in message:  # graphql-transport-ws
            if message["type"] != "next" or "errors" in message["payload"]:
                subscriber.errors.append(payload[:300].decode(errors="replace"))
                continue
            message = message["payload"]
        event = message["data"]["dealChanged"]["event"]
        if event["id"] in seen:
            duplicates += 1
            continue
        seen.add(event["id"])
        occurred = datetime.fromisoformat(event["occurredAt"]).timestamp()
        found.append((arrived, occurred, event["id"]))
    return found, duplicates


def _summary(options: Options, subscribers: list[Subscriber], started: float, expected: int) -> dict[str, Any]:  # fmt: skip
    measured, duplicates = [], 0
    for subscriber in subscribers:
        found, twice = _deliveries(subscriber)
        measured += found
        duplicates += twice
    latencies = sorted(1000 * (arrived - occurred) for arrived, occurred, _ in measured)
    last = max((arrived for arrived, _, _ in measured), default=started)
    return {
        "subscribers": options.subscribers,
        "connected": len(subscribers),
        "expected": expected,
        "delivered": len(measured),
        "missing": expected - len(measured),
        "duplicates": duplicates,
        # Over the publishing time, or longer if deliveries trailed behind it.
        "deliveries_per_s": len(measured) / max(options.seconds, last - started),
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else None,
        **_bursts(measured),
    }


def _bursts(measured: list[tuple[float, float, str]]) -> dict[str, float | None]:
    """Where latency comes from, per event: until its first delivery (commit, relay, Redis,
    hub, evaluation) and from its first to its last delivery (the fan-out to every socket)."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    occurred_at: dict[str, float] = {}
    for arrived, occurred, event_id in measured:
        arrivals[event_id].append(arrived)
        occurred_at[event_id] = occurred
    first = sorted(1000 * (min(a) - occurred_at[e]) for e, a in arrivals.items())
    spread = sorted(1000 * (max(a) - min(a)) for a in arrivals.values())
    return {
        "first_delivery_p50_ms": _percentile(first, 0.5),
        "first_delivery_max_ms": first[-1] if first else None,
        "fan_out_spread_p50_ms": _percentile(spread, 0.5),
        "fan_out_spread_max_ms": spread[-1] if spread else None,
    }


async def run_client(options: Options) -> dict[str, Any]:
    import aiohttp
    import psutil

    from bench.mutations import server_cpu_seconds

    raise_open_files()
    server, me = psutil.Process(options.server_pid), psutil.Process()
    postmaster = psutil.Process(options.postmaster_pid)
    result: dict[str, Any] = {"path": options.path, "rss_before_mb": server.memory_info().rss / 2**20}  # fmt: skip
    errors: list[str] = []
    subscribers = await _open_all(options, errors)
    headers = {"authorization": f"Bearer {options.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        publisher = Publisher(session, options)
        result["warmed_up"] = await _warm_up(subscribers, publisher)
        await asyncio.sleep(2.0)
        result["rss_idle_mb"] = server.memory_info().rss / 2**20
        for subscriber in subscribers:
            subscriber.mark = len(subscriber.received)
        published_before = publisher.count - len(publisher.failures)
        cpu_before, mine_before = server_cpu_seconds(server, postmaster), _own_cpu(me)
        started = time.time()
        await publisher.at_rate(options.rate, options.seconds)
        expected = (publisher.count - len(publisher.failures) - published_before) * len(subscribers)

        def arrived() -> int:
            return sum(len(s.received) - s.mark for s in subscribers)

        await _until(lambda: arrived() >= expected, max(5.0, options.seconds))
        cpu = server_cpu_seconds(server, postmaster) - cpu_before
        wall = time.time() - started
        # Near 1.0 would mean the client, not the server, set the pace.
        result["client_cpu_share"] = (_own_cpu(me) - mine_before) / wall
    for subscriber in subscribers:
        subscriber.close()
    result.update(_summary(options, subscribers, started, expected))
    idle = result["rss_idle_mb"] - result["rss_before_mb"]
    result["rss_per_1000_idle_mb"] = 1000 * idle / max(1, len(subscribers))
    result["cpu_ms_per_1000_deliveries"] = 1e6 * cpu / max(1, result["delivered"])
    result["server_cpu_share"] = cpu / wall
    result["publish_failures"] = len(publisher.failures)
    errors += [e for s in subscribers for e in s.errors] + publisher.failures
    result["errors"] = len(errors)
    result["first_errors"] = errors[:3]
    return result


def _own_cpu(me: Any) -> float:
    times = me.cpu_times()
    return float(times.user + times.system)


# The scenario, for bench/run.py.


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def _board(database_url: str) -> tuple[str, dict[str, str]]:
    """The bench tenant's default pipeline and BOARD_DEALS of its deals with their titles."""
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        pipeline = await db.fetchval(
            "SELECT p.id FROM pipeline p JOIN tenant t ON t.id = p.tenant_id"
            " WHERE t.slug = 'bench' AND p.is_default"
        )
        rows = await db.fetch(
            "SELECT id, title FROM deal WHERE pipeline_id = $1 ORDER BY id LIMIT $2",
            pipeline,
            BOARD_DEALS,
        )
    finally:
        await db.close()
    return str(pipeline), {str(r["id"]): r["title"] for r in rows}


async def _restore_titles(database_url: str, titles: dict[str, str]) -> None:
    """The publisher renamed the deals; later scenarios (and runs) see the original data."""
    import asyncpg

    db = await asyncpg.connect(_dsn(database_url))
    try:
        await db.executemany(
            "UPDATE deal SET title = $2 WHERE id = $1",
            [(uuid.UUID(i), title) for i, title in titles.items()],
        )
    finally:
        await db.close()


def sizes(quick: bool) -> dict[str, Any]:
    """run_s6's load: the issue's 1,000 subscribers at 5 changes/s (5,000 deliveries/s), or a
    short look for --quick."""
    if quick:
        return {"subscribers": 200, "rate": 5.0, "seconds": 4.0}
    return {"subscribers": 1000, "rate": 5.0, "seconds": 20.0}


def run_s6(start_server: Callable[[], AbstractContextManager[Any]], port: int, token: str,
           database_url: str, *, subscribers: int = 1000, rate: float = 5.0,
           seconds: float = 20.0) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Ours, then the raw route, each on a fresh server from `start_server()` (a context
    manager yielding the server's psutil.Process, listening on `port`): a process that has
    held 1,000 sockets before reuses that memory, and the idle RSS figure would come out low.
    Asserts that no delivery was missing, duplicated or an error, after both have run."""
    from bench.mutations import pinned, postmaster_pid

    postmaster = asyncio.run(postmaster_pid(database_url))
    pipeline, titles = asyncio.run(_board(database_url))
    results: dict[str, dict[str, Any]] = {}
    try:
        for path in ("graphql", "raw"):
            with start_server() as process:
                raise_open_files(process.pid)
                options = Options(path, port, token, pipeline, list(titles), process.pid,
                                  postmaster, int(subscribers), rate, seconds)  # fmt: skip
                command = [*pinned(1), sys.executable, __file__, json.dumps(asdict(options))]
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[PATHS[path]] = json.loads(output)
            print(PATHS[path], output.strip(), flush=True)
    finally:
        asyncio.run(_restore_titles(database_url, titles))
    for name, result in results.items():
        bad = {k: result[k] for k in ("errors", "missing", "duplicates") if result[k]}
        assert not bad, f"{name}: {bad} {result['first_errors']}"
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """RESULTS.md's S6 section."""
    any_result = next(iter(results.values()), None)
    if any_result is None:
        return []
    n = any_result["subscribers"]
    lines = [
        "## S6: deal board fan-out",
        "",
        f"{n} WebSocket subscribers on one pipeline's board; deal titles changed at a fixed rate "
        "through updateDeal (same events for both); latency from the writing transaction's start "
        "(event occurredAt) to receipt. The raw route shares one card read per event and board "
        "and does not re-read the outbox on reconnect or overflow.",
        "",
        "| path | deliveries/s | p50 ms | p99 ms | max ms | server+PG CPU ms/1,000 deliveries | "
        "server+PG CPU, cores busy | RSS MB per 1,000 idle subs | missing | dup | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['deliveries_per_s']:.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | "
            f"{_ms(r['max_ms'])} | {r['cpu_ms_per_1000_deliveries']:.0f} | "
            f"{r['server_cpu_share']:.2f} | {r['rss_per_1000_idle_mb']:.1f} | {r['missing']} | "
            f"{r['duplicates']} | {r['errors']} |"
        )
    lines += ["", "Per event (median / worst): until the first delivery, and from the first to the last socket:", ""]  # fmt: skip
    lines += [
        f"- {name}: first {_ms(r.get('first_delivery_p50_ms'))} / {_ms(r.get('first_delivery_max_ms'))} ms, "
        f"fan-out {_ms(r.get('fan_out_spread_p50_ms'))} / {_ms(r.get('fan_out_spread_max_ms'))} ms"
        for name, r in results.items()
    ]
    ours, raw = results.get(PATHS["graphql"]), results.get(PATHS["raw"])
    if ours and raw:
        ratio = ours["deliveries_per_s"] / max(1e-9, raw["deliveries_per_s"])
        cpu = ours["cpu_ms_per_1000_deliveries"] / max(1e-9, raw["cpu_ms_per_1000_deliveries"])
        lines += [
            "",
            f"- S6: {ratio:.2f}x the raw route's deliveries/s (target >= 0.8x), CPU per delivery "
            f"{cpu:.1f}x; p99 {_ms(ours['p99_ms'])} ms at {ours['deliveries_per_s']:.0f} "
            f"deliveries/s (target <= 50 ms at 5,000/s); {ours['rss_per_1000_idle_mb']:.1f} MB RSS "
            "per 1,000 idle subscriptions (target <= 50 MB)",
        ]
    return lines


def main() -> None:
    options = Options(**json.loads(sys.argv[1]))
    print(json.dumps(asyncio.run(run_client(options))))


if __name__ == "__main__":
    main()
