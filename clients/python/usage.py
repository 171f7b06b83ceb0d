"""Real usage of the ariadne-codegen client (generated into clients/.tools/ariadne by check.sh):
mypy --strict checks it against the generated package, and running it validates a response as
the server sends it (DateTime, Decimal and Date in their wire forms) through the models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from insight_crm_client import Client, CompaniesPage, CompanyFilter, DealBoard, EntityStatus


async def company_names(client: Client, search: str) -> list[str]:
    """Every active company matching `search`, paging to the end."""
    names: list[str] = []
    after: str | None = None
    while True:
        page = await client.companies_page(
            first=50,
            after=after,
            filter_=CompanyFilter(search=search, status=[EntityStatus.ACTIVE]),
        )
        names.extend(edge.node.name for edge in page.companies.edges)
        if not page.companies.page_info.has_next_page:
            return names
        after = page.companies.page_info.end_cursor


def board_totals(board: DealBoard) -> dict[str, Decimal]:
    """Each stage's open value in EUR, exact."""
    pipeline = board.default_pipeline
    if pipeline is None:
        return {}
    names = {stage.id: stage.name for stage in pipeline.stages}
    return {
        names[s.stage_id]: sum((m.amount for m in s.total if m.currency == "EUR"), Decimal(0))
        for s in pipeline.summary
    }


SENT = {  # a response as the server sends it
    "companies": {
        "totalCount": 1,
        "pageInfo": {"hasNextPage": False, "endCursor": "YQ"},
        "edges": [
            {
                "cursor": "YQ",
                "node": {
                    "__typename": "Company",
                    "id": "5f0c7a9e-4c7e-4a43-9d0f-2f1b7f3c8a11",
                    "name": "Kieler Werft GmbH",
                    "website": None,
                    "status": "ACTIVE",
                    "tags": ["Messe 2027"],
                    "industry": None,
                    "owners": [],
                    "openDealCount": 2,
                    "openDealValue": [{"amount": "1250.00", "currency": "EUR"}],
                    "lastActivityAt": "2027-01-15T08:00:00.535475+00:00",
                    "nextActivityDueAt": None,
                },
            }
        ],
    }
}


def main() -> None:
    page = CompaniesPage.model_validate(SENT)
    node = page.companies.edges[0].node
    assert node.open_deal_value[0].amount == Decimal("1250.00"), node.open_deal_value
    assert node.last_activity_at == dt.datetime(2027, 1, 15, 8, 0, 0, 535475, tzinfo=dt.UTC)
    print("ariadne-codegen client: imported, a CompaniesPage response validated")


if __name__ == "__main__":
    main()
