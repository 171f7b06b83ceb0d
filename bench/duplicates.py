"""S10: duplicate checks at 100,000 companies and 500,000 contacts (issue 23).

    bash bench/run.sh --only duplicates [--search-seconds 5] [--quick]

Runs on S9's cluster and tenant (bench/search_data.py, bench/.tools/data/search; made on the
first run of either): a candidate check by id and by draft (what a form sends as the user
types, and before saving), a contact's, and a page of the tenant-wide report, each sent as
GraphQL, one connection at a time (a user waiting for the warning), p50/p99 and CPU per
request from bench/run.py's measurement. Target: a candidate check under 50 ms p99.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bench import search, search_data
from bench.search import Harness, Query, _median, _post, made_by_this_postgres

SECTION = "## S10: duplicate checks at 100,000 companies and 500,000 contacts"
TARGET_MS = 50.0
CANDIDATE = """score strength record { ... on Company { id name } ... on Contact { id lastName } }
  matches { rule value candidateValue similarity }"""
BY_COMPANY = f"query($id: ID!) {{ duplicateCandidates(companyId: $id) {{ {CANDIDATE} }} }}"
BY_CONTACT = f"query($id: ID!) {{ duplicateCandidates(contactId: $id) {{ {CANDIDATE} }} }}"
COMPANY_DRAFT = f"""query($d: CompanyDraftInput!) {{
  duplicateCandidates(company: $d) {{ {CANDIDATE} }} }}"""
CONTACT_DRAFT = f"""query($d: ContactDraftInput!) {{
  duplicateCandidates(contact: $d) {{ {CANDIDATE} }} }}"""
REPORT = """query($type: DuplicateType!) { duplicates(type: $type, first: 20) {
  edges { node { score strength matches { rule } record { __typename } other { __typename } } }
  pageInfo { hasNextPage endCursor } } }"""


async def probes(database_url: str) -> dict[str, Any]:
    """Records of the loaded data the checks start from (the first by id: the same every run)."""
    import asyncpg

    bench = "tenant_id = (SELECT id FROM tenant WHERE slug = 'bench')"
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        company = await connection.fetchrow(
            f"SELECT id::text, name, vat_id, website, billing_address ->> 'zip' AS zip FROM company "
            f"WHERE {bench} AND vat_id IS NOT NULL AND website IS NOT NULL ORDER BY id LIMIT 1"
        )
        common = await connection.fetchrow(
            f"SELECT c.id::text FROM company c WHERE {bench} AND c.dedupe_name = ("
            f"SELECT dedupe_name FROM company WHERE {bench} GROUP BY 1 ORDER BY count(*) DESC, 1 "
            "LIMIT 1) ORDER BY c.id LIMIT 1"
        )
        email = await connection.fetchval(
            f"SELECT email FROM contact_email WHERE {bench} AND company_id = $1::uuid LIMIT 1",
            company["id"],
        )
        phone = await connection.fetchval(
            f"SELECT phone FROM contact_phone WHERE {bench} AND company_id = $1::uuid LIMIT 1",
            company["id"],
        )
        person = await connection.fetchrow(
            f"SELECT c.id::text, c.first_name, c.last_name, c.company_id::text, e.email "
            f"FROM contact c JOIN contact_email e ON e.contact_id = c.id WHERE c.{bench} "
            "ORDER BY c.id LIMIT 1"
        )
        return {"company": dict(company), "common": common["id"], "email": email,
                "phone": phone, "person": dict(person)}  # fmt: skip
    finally:
        await connection.close()


def _query(label: str, kind: str, document: str, variables: dict[str, Any]) -> Query:
    return Query(label, kind, {"query": document, "variables": variables}, {}, "")


def queries(found: dict[str, Any]) -> list[Query]:
    company, person = found["company"], found["person"]
    typed = company["name"].split(" ")[0] + " " + company["name"].split(" ")[1][:-1]
    full = {"name": company["name"], "vatId": company["vat_id"], "website": company["website"],
            "zip": company["zip"], "emails": [found["email"]], "phones": [found["phone"]]}  # fmt: skip
    return [
        _query("company by id", "check a saved company", BY_COMPANY, {"id": company["id"]}),
        _query(
            "company by id, most common name",
            "check a saved company",
            BY_COMPANY,
            {"id": found["common"]},
        ),
        _query(f'company draft "{typed}"', "type a name", COMPANY_DRAFT, {"d": {"name": typed}}),
        _query("company draft, whole form", "save a new company", COMPANY_DRAFT, {"d": full}),
        _query("contact by id", "check a saved contact", BY_CONTACT, {"id": person["id"]}),
        _query(
            "contact draft, name, company, e-mail",
            "save a new contact",
            CONTACT_DRAFT,
            {
                "d": {
                    "firstName": person["first_name"],
                    "lastName": person["last_name"],
                    "companyId": person["company_id"],
                    "emails": [person["email"]],
                }
            },
        ),
        _query("report page, companies", "clean up (20 pairs)", REPORT, {"type": "COMPANY"}),
        _query("report page, contacts", "clean up (20 pairs)", REPORT, {"type": "CONTACT"}),
    ]


def run_s10(args: argparse.Namespace, harness: Harness) -> None:
    from app.keys import DevTokenRequest, sign_dev_token
    from app.migrations import upgrade_to_head

    started = time.monotonic()
    cluster = harness.data / "search"
    made_by_this_postgres(cluster)
    with harness.database(cluster) as urls:
        owner_url, serving_url, _redis = urls
        upgrade_to_head(owner_url, serving_url)
        loaded = asyncio.run(search_data.load(owner_url, args.search_scale))
        print("S10 data:", loaded or "reused", f"{time.monotonic() - started:.0f} s", flush=True)
        settings = harness.settings(urls)
        token = sign_dev_token(
            settings, DevTokenRequest("bench", "bench@example.de", "admin", 4 * 3600)
        )
        checks = queries(asyncio.run(probes(owner_url)))
        results: dict[str, Any] = {q.label: {"ours": []} for q in checks}
        with harness.server(urls, args.port) as process:
            for query in checks:
                answer = _post(args.port, "/graphql", query.body, token)
                rows = next(iter(answer["data"].values()))
                rows = rows["edges"] if isinstance(rows, dict) else rows
                results[query.label]["rows"] = len(rows)
                results[query.label]["first"] = rows[0] if rows else None
            for round_ in range(-1, args.rounds):
                seconds = min(1.0, args.search_seconds) if round_ < 0 else args.search_seconds
                for query in checks:
                    result = harness.measure(process, args.port, [query.body], token, seconds,
                                             args.search_concurrency)  # fmt: skip
                    if round_ >= 0:
                        results[query.label]["ours"].append(result)
                        print("S10", query.label, result, flush=True)
    lines = report_lines(args, checks, results, time.monotonic() - started)
    if not args.quick:
        text = harness.results.read_text()
        harness.results.write_text(search.replace_section(text, lines, SECTION))
    print("\n".join(lines))


def _first(result: dict[str, Any]) -> str:
    first = result.get("first")
    if not first:
        return "none"
    node = first.get("node", first)
    return f"{node['score']} {node['strength']} ({', '.join(sorted({m['rule'] for m in node['matches']}))})"


def report_lines(args: argparse.Namespace, checks: list[Query], results: dict[str, Any],
                 total_seconds: float) -> list[str]:  # fmt: skip
    lines = [
        SECTION,
        "",
        f"Target (issue 23): a candidate check under {TARGET_MS:g} ms p99 at 100,000 companies.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on S9's data (the `bench` tenant, "
        f"scale {args.search_scale:g}), {args.search_concurrency} connection(s), {args.rounds} "
        f"round(s) of {args.search_seconds:g} s after a warm-up, median of the rounds; GraphQL "
        f"under row-level security, as a user sends it. The run took {total_seconds:.0f} s. "
        "Run with `bash bench/run.sh --only duplicates`.",
        "",
        "| check | user does | p50 ms | p99 ms | CPU ms | rows | strongest |",
        "|---|---|---|---|---|---|---|",
    ]
    for query in checks:
        result = results[query.label]
        ours = result["ours"]
        lines.append(
            f"| `{query.label}` | {query.kind} | {_median(ours, 'p50_ms'):.1f} | "
            f"{_median(ours, 'p99_ms'):.1f} | {_median(ours, 'cpu_ms_per_request'):.2f} | "
            f"{result['rows']} | {_first(result)} |"
        )
    return lines
