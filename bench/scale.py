"""S8: what each request costs at 2,000 companies and at 100,000 (issue 25).

    bash bench/run.sh --only scale [--scale-factor 50 | 10,50] [--scale-runs 30] [--quick]

Two tenants made by bench/generate.py, each on its own embedded cluster under
bench/.tools/data/ (`scale-1`: 2,000 companies; `scale-50`: 100,000 companies, 500,000
contacts, 300,000 deals, 250,000 activities, with nine other tenants of a tenth of that each),
loaded on the first run and whenever seed or scale changed (`generate.load_chunks` marks what
it loaded), then reused; `--scale-factor 10,50` adds the issue's 20,000-company column. On
each, our server as bench/run.py starts it (`server()`: the serving role that owns nothing,
row-level security on, the compiled path on). One client, one keep-alive connection per
server, sequential requests: each request is warmed up, then sent `--scale-runs` times, the
tenants taking turns run by run so that all see the same load of this shared machine; p50 and
p99 (nearest rank: of 30 runs, the slowest) of the client's wall time, and the growth factor,
the largest tenant's p50 over the smallest's.

The requests are the issue's table. The cursors at 95% are real ones: read from the server by
paging backwards from the end of the list (`cursor_at`). A request whose field or argument the
schema lacks is left out with the validation message; one answered with errors is reported,
not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from app.settings import Settings
from bench import generate, scale_report
from bench.search import Refused, Urls, _errors, replace_section, validation_errors

PAGE = 50  # the list pages' size (the server's default page size)
MOST = 200  # MAX_PAGE_SIZE: the largest page the walk to a cursor asks for

NODE = "edges { cursor node { id name } } pageInfo { hasNextPage endCursor }"
COMPANIES = f"""query($first: Int!, $after: String, $order: CompanyOrder) {{
  companies(first: $first, after: $after, orderBy: $order) {{ {NODE} }} }}"""
BACKWARDS = """query($last: Int!, $before: String, $order: CompanyOrder) {
  companies(last: $last, before: $before, orderBy: $order) { pageInfo { startCursor } } }"""
TOTAL = "query($first: Int!) { companies(first: $first) { totalCount } }"
BOARD = """{ defaultPipeline { id name stages { id name position probability kind }
  summary { stageId dealCount total { amount currency } weighted { amount currency } } } }"""
STAGES = "{ defaultPipeline { stages { id position } } }"
FEED = """query($company: ID!, $first: Int!) { activities(first: $first,
  filter: {companyId: $company, includeContacts: true}) {
  edges { node { id type subject companyId contactId createdAt } } } }"""
SEARCH = """query($q: String!, $first: Int!) { companies(first: $first, filter: {search: $q}) {
  edges { node { id name } } } }"""
NESTED = """query($first: Int!) { companies(first: $first) { edges { node { id name
  contacts { edges { node { id firstName lastName emails { email } phones { phone }
    owners { role user { id name } } } } }
  deals { edges { node { id title value currency stage { name } owners { role user { id } } } } }
} } } }"""
COMPANY = "query($id: ID!) { company(id: $id) { id name website vatId status } }"
DEALS = """query($first: Int!, $filter: DealFilter, $order: DealOrder) {
  deals(first: $first, filter: $filter, orderBy: $order) {
  edges { node { id title value currency stageId } } } }"""
EVENTS = """query($first: Int!) { events(first: $first, direction: DESC) {
  edges { node { id type entity entityId occurredAt } } } }"""


class Request(NamedTuple):
    label: str  # as in the table
    body: dict[str, Any]  # GraphQL, with its variables


Post = Callable[[dict[str, Any]], dict[str, Any]]  # a body in, the answer's data out


class Client:
    """One keep-alive connection to a server; `post` raises Refused on errors."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            status, payload = self._send(body)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # uvicorn closes a connection idle for 5 s (the other tenant loading meanwhile):
            # a read is sent again on a new one.
            self.connection.close()
            status, payload = self._send(body)
        answer = json.loads(payload) if payload.startswith(b"{") else {}
        if status >= 300 or "errors" in answer or "data" not in answer:
            raise Refused(f"HTTP {status} {_errors(payload)}")
        data: dict[str, Any] = answer["data"]
        return data

    def _send(self, body: dict[str, Any]) -> tuple[int, bytes]:
        self.connection.request("POST", "/graphql", json.dumps(body), self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def order(field: str) -> dict[str, str]:
    return {"field": field, "direction": "ASC"}


def cursor_at(post: Post, field: str, fraction: float, total: int, most: int = MOST) -> str | None:
    """The cursor after which the page at `fraction` of the companies in `field` order starts
    (its first row is row int(fraction * total), counted from 0), read from the server itself
    by paging backwards from the list's end, `most` rows at a time; None at 0: page 1."""
    start = int(fraction * total)
    if start == 0:
        return None
    need, before = total - start + 1, None  # the rows from the cursor's row to the end
    while need > 0:
        last = min(most, need)
        variables = {"last": last, "before": before, "order": order(field)}
        before = post({"query": BACKWARDS, "variables": variables})["companies"]["pageInfo"][
            "startCursor"
        ]
        need -= last
    return before


async def typical_company(owner_url: str) -> str:
    """The `bench` tenant's middle company by creation: as many contacts, deals and activities
    as any (bench/generate.py draws them alike), in the middle of the activities' time order."""
    import asyncpg

    connection = await asyncpg.connect(owner_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        bench = "tenant_id = (SELECT id FROM tenant WHERE slug = 'bench')"
        total = await connection.fetchval(f"SELECT count(*) FROM company WHERE {bench}")
        return str(
            await connection.fetchval(
                f"SELECT id FROM company WHERE {bench} ORDER BY created_at, id OFFSET $1 LIMIT 1",
                total // 2,
            )
        )
    finally:
        await connection.close()


def requests(post: Post, company: str) -> list[Request]:
    """The issue's table for one tenant; its cursors and ids read from that tenant."""
    total = post({"query": TOTAL, "variables": {"first": 1}})["companies"]["totalCount"]
    stages = post({"query": STAGES})["defaultPipeline"]["stages"]
    stage = sorted(stages, key=lambda s: s["position"])[min(1, len(stages) - 1)]["id"]

    def page(field: str, fraction: float) -> dict[str, Any]:
        after = cursor_at(post, field, fraction, total)
        return {"query": COMPANIES, "variables": {"first": PAGE, "after": after,
                                                  "order": order(field)}}  # fmt: skip

    def deals(filter_: dict[str, Any] | None, order_: dict[str, str] | None) -> dict[str, Any]:
        return {"query": DEALS, "variables": {"first": PAGE, "filter": filter_, "order": order_}}

    return [
        Request("companies page 1, by name", page("NAME", 0)),
        Request("companies page at 95%, by name", page("NAME", 0.95)),
        Request("companies page at 95%, by createdAt", page("CREATED_AT", 0.95)),
        Request("`defaultPipeline { stages summary }`", {"query": BOARD}),
        Request(
            "company activity feed (`companyId`, `includeContacts: true`)",
            {"query": FEED, "variables": {"company": company, "first": PAGE}},
        ),
        Request(
            "`companies(first: 50) { totalCount }`", {"query": TOTAL, "variables": {"first": PAGE}}
        ),
        Request(
            'company search "mül" (`companies(filter: {search})`, first 20)',
            {"query": SEARCH, "variables": {"q": "mül", "first": 20}},
        ),
        Request(
            "nested page `companies(first: 50)` (contacts, deals)",
            {"query": NESTED, "variables": {"first": PAGE}},
        ),
        Request("`company(id)`", {"query": COMPANY, "variables": {"id": company}}),
        Request("deals of one stage (`filter: {stageId}`)", deals({"stageId": stage}, None)),
        Request(
            "deals by value (`orderBy: VALUE DESC`)",
            deals(None, {"field": "VALUE", "direction": "DESC"}),
        ),
        Request(
            "events (`events(first: 50, direction: DESC)`)",
            {"query": EVENTS, "variables": {"first": PAGE}},
        ),
    ]


def rows(data: dict[str, Any]) -> int | str:
    """What an answer holds, for the table: a list's edges, a pipeline's stages, a count."""
    value = next(iter(data.values()))
    if isinstance(value, dict) and "edges" in value:
        return len(value["edges"])
    if isinstance(value, dict) and "totalCount" in value:
        return f"{value['totalCount']:,}"
    if isinstance(value, dict) and "summary" in value:
        return sum(stage["dealCount"] for stage in value["summary"])
    return 1 if value else 0


def timed(post: Post, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    post(body)
    return (time.perf_counter() - started) * 1000


class Side(NamedTuple):
    """One scale's tenant being measured."""

    scale: float
    post: Post
    requests: dict[str, Request]


def measure(sides: list[Side], labels: list[str], runs: int, warmup: int) -> dict[str, Any]:
    """Each request's ms per scale: `warmup` runs dropped, then `runs` kept, the scales taking
    turns run by run. A request answered with errors is dropped with its message."""
    results: dict[str, Any] = {}
    for label in labels:
        try:
            found: dict[float, dict[str, Any]] = {
                s.scale: {"rows": rows(s.post(s.requests[label].body)), "ms": []} for s in sides
            }
            for run in range(warmup + runs):
                for side in sides:
                    ms = timed(side.post, side.requests[label].body)
                    if run >= warmup:
                        found[side.scale]["ms"].append(ms)
        except Refused as error:
            print(f"S8: {label} failed, not timed: {error}", flush=True)
            results[label] = {"failed": str(error)}
            continue
        results[label] = found
        print(
            "S8",
            label,
            json.dumps({k: scale_report.summary(v) for k, v in found.items()}),
            flush=True,
        )
    return results


class Harness(NamedTuple):
    """What bench/run.py lends S8: its database (a cluster per data dir), server, settings."""

    database: Callable[[Path], AbstractContextManager[Urls]]
    server: Callable[[Urls, int, dict[str, str]], AbstractContextManager[psutil.Process]]
    settings: Callable[[Urls], Settings]
    data: Path  # bench/.tools/data
    results: Path  # bench/RESULTS.md


def cluster(harness: Harness, scale: float) -> Path:
    return harness.data / f"scale-{scale:g}"


def run_s8(args: argparse.Namespace, harness: Harness) -> None:
    """Load (or reuse) both tenants, measure, write S8's section of RESULTS.md (printed only
    with --quick)."""
    from app.keys import DevTokenRequest, sign_dev_token
    from app.migrations import upgrade_to_head
    from bench.search import made_by_this_postgres

    started, load_before = time.monotonic(), os.getloadavg()
    scales = [1.0, *args.scale_factor]
    sides: list[Side] = []
    loads: dict[float, str] = {}
    with ExitStack() as stack:
        for n, scale in enumerate(scales):
            began = time.monotonic()
            if not os.environ.get("DATABASE_URL"):
                made_by_this_postgres(cluster(harness, scale))
            urls = stack.enter_context(harness.database(cluster(harness, scale)))
            owner_url, serving_url, _redis = urls
            upgrade_to_head(owner_url, serving_url)
            loaded = asyncio.run(generate.load_chunks(owner_url, scale))
            loads[scale] = scale_report.loaded(loaded, time.monotonic() - began)
            print(f"S8 data at scale {scale:g}: {loads[scale]}", flush=True)
            port = args.port + 2 * n  # the peer's port, args.port + 1, stays free
            stack.enter_context(harness.server(urls, port, {"COMPILED_EXECUTION": "on"}))
            token = sign_dev_token(harness.settings(urls),
                                   DevTokenRequest("bench", "bench@example.de", "admin", 4 * 3600))  # fmt: skip
            client = Client(port, token)
            stack.callback(client.close)
            company = asyncio.run(typical_company(owner_url))
            found = requests(client.post, company)
            sides.append(Side(scale, client.post, {r.label: r for r in found}))
        labels = list(sides[0].requests)
        skipped = {label: why for label in labels
                   if (why := validation_errors(sides[0].requests[label].body["query"]))}  # fmt: skip
        for label, why in skipped.items():
            print(f"S8: skipped {label}: {why}", flush=True)
        measured = [label for label in labels if label not in skipped]
        results = measure(sides, measured, args.scale_runs, args.scale_warmup)
    machine = f"load average {_load(load_before)} before, {_load(os.getloadavg())} after"
    lines = scale_report.report_lines(args, labels, results, skipped, loads, machine,
                         time.monotonic() - started)  # fmt: skip
    if not args.quick:
        text = harness.results.read_text()
        harness.results.write_text(replace_section(text, lines, scale_report.SECTION))
    print("\n".join(lines))


def _load(average: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in average)
