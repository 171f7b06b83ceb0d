"""S8 (bench/scale.py): its cursors at 95 % are the server's own and land where they should,
every request of its table is one the server answers, and its report keeps one section."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import pytest

from bench import scale, scale_report
from bench.search import replace_section
from tests.conftest import Api

CREATE_COMPANY = "mutation($n: String!) { createCompany(input: {name: $n}) { id } }"
FORWARD = """query($first: Int!, $after: String, $order: CompanyOrder) {
  companies(first: $first, after: $after, orderBy: $order) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


async def _companies(api: Api, count: int) -> list[str]:
    names = [f"{('Müller', 'müller', 'Abel', 'Zander')[n % 4]} {n % 5} GmbH" for n in range(count)]
    return [(await api.data(CREATE_COMPANY, {"n": name}))["createCompany"]["id"] for name in names]


async def _in_order(api: Api, field: str) -> list[str]:
    """The tenant's companies in `field` order, read forward page by page."""
    found: list[str] = []
    after = None
    while True:
        variables = {"first": 7, "after": after, "order": scale.order(field)}
        page = (await api.data(FORWARD, variables))["companies"]
        found += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def _client(api: Api, live: str) -> scale.Client:
    return scale.Client(int(live.rsplit(":", 1)[1]), api.token())


async def test_the_cursor_at_95_percent_starts_the_page_at_that_row(api: Api, live: str) -> None:
    """Walked backwards from the end in steps of 4 (names that tie in any case: the id
    decides), the cursor's page begins at row int(0.95 * 23) = 21 of the forward order."""
    await _companies(api, 23)
    client = _client(api, live)
    try:
        for field in ("NAME", "CREATED_AT"):
            expected = await _in_order(api, field)
            for fraction, start in ((0.95, 21), (0.5, 11), (1 / 23, 1)):
                cursor = await asyncio.to_thread(
                    scale.cursor_at, client.post, field, fraction, 23, 4
                )
                assert cursor is not None
                page = await asyncio.to_thread(client.post, {"query": scale.COMPANIES, "variables": {
                    "first": 50, "after": cursor, "order": scale.order(field)}})  # fmt: skip
                ids = [edge["node"]["id"] for edge in page["companies"]["edges"]]
                assert ids == expected[start:], (field, fraction)
            assert await asyncio.to_thread(scale.cursor_at, client.post, field, 0.01, 23) is None
    finally:
        client.close()


async def test_every_request_of_the_table_is_answered(api: Api, live: str) -> None:
    """The documents and variables S8 sends are valid today and answered without errors
    (a typo would only show as a 'skipped' line of the report)."""
    companies = await _companies(api, 5)
    pipeline = (await api.data(
        """mutation { createPipeline(input: {name: "Vertrieb", isDefault: true,
        stages: [{name: "A"}, {name: "B"}]}) { id stages { id } } }"""
    ))["createPipeline"]  # fmt: skip
    contact = (await api.data(
        "mutation($c: ID!) { createContact(input: {lastName: \"Abel\", companyId: $c}) { id } }",
        {"c": companies[2]}))["createContact"]["id"]  # fmt: skip
    await api.data(
        "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
        {"i": {"title": "Rahmenvertrag", "value": "100.00", "pipelineId": pipeline["id"],
               "stageId": pipeline["stages"][1]["id"], "companyId": companies[2]}},
    )  # fmt: skip
    await api.data(
        "mutation($c: ID!) { createActivity(input: {type: CALL, subject: \"Nachfassen\","
        " contactId: $c}) { id } }", {"c": contact})  # fmt: skip
    client = _client(api, live)
    try:
        made = await asyncio.to_thread(scale.requests, client.post, companies[2])
        assert len(made) == 12
        for request in made:
            assert scale.validation_errors(request.body["query"]) is None, request.label
            data = await asyncio.to_thread(client.post, request.body)
            assert scale.rows(data) not in (0, "0"), request.label
    finally:
        client.close()


async def test_a_request_answered_with_errors_is_refused(api: Api, live: str) -> None:
    """Timed only when answered: an error is S8's 'failed, not timed' line."""
    client = _client(api, live)
    try:
        body = {"query": scale.COMPANY, "variables": {"id": "not-a-uuid"}}
        with pytest.raises(scale.Refused, match="BAD_USER_INPUT"):
            await asyncio.to_thread(client.post, body)
    finally:
        client.close()


def test_percentiles_are_nearest_rank() -> None:
    runs = [float(n) for n in range(30, 0, -1)]
    assert scale_report.percentile(runs, 50) == 15.0
    assert scale_report.percentile(runs, 99) == 30.0  # of 30 runs, the slowest
    assert scale_report.percentile([4.0], 99) == 4.0


def _result(p50: float, rows: Any) -> dict[str, Any]:
    return {"rows": rows, "ms": [p50] * 30}


def test_the_report_has_each_scale_the_growth_and_what_was_left_out() -> None:
    args = argparse.Namespace(scale_factor=[10.0, 50.0], scale_runs=30, scale_warmup=3)
    labels = ["companies page at 95%, by name", "board", "feed", "deals by value"]
    results = {
        labels[0]: {1.0: _result(4.0, 50), 10.0: _result(16.0, 50), 50.0: _result(80.0, 50)},
        labels[1]: {
            1.0: _result(10.0, 6021),
            10.0: _result(9.0, 60_000),
            50.0: _result(12.0, 300_000),
        },
        labels[2]: {"failed": "HTTP 200 BAD_USER_INPUT no"},
    }
    skipped = {labels[3]: "Cannot query field 'x' on type 'Query'."}
    lines = scale_report.report_lines(
        args, labels, results, skipped, {1.0: "reused"}, "load 1", 9.0
    )
    assert lines[0] == scale_report.SECTION
    text = "\n".join(lines)
    assert (
        "| request | 2k p50 | 2k p99 | 20k p50 | 20k p99 | 100k p50 | 100k p99 | growth |" in text
    )
    assert "--scale-factor 10,50`" in text
    assert ("| companies page at 95%, by name | 4.0 | 4.0 | 16.0 | 16.0 | 80.0 | 80.0 | 20.0x | no "
            "| 50 / 50 / 50 |") in lines  # fmt: skip
    assert (
        "| board | 10.0 | 10.0 | 9.0 | 9.0 | 12.0 | 12.0 | 1.2x | yes | 6021 / 60000 / 300000 |"
        in lines
    )
    assert "- feed: HTTP 200 BAD_USER_INPUT no" in lines
    assert "- deals by value: Cannot query field 'x' on type 'Query'." in lines
    before = f"# Results\n\n{scale_report.SECTION}\n\nold table\n\n## S9: search\n\nkept\n"
    rerun = replace_section(before, lines, scale_report.SECTION)
    assert "old table" not in rerun and rerun.count(scale_report.SECTION) == 1 and "kept" in rerun
    assert replace_section("# Results\n", lines, scale_report.SECTION).endswith(
        "\n".join(lines) + "\n"
    )
