"""dataQualityIssues(first, after): stored values that fail today's identifier checks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.services.companies.rules import COMPANY
from app.services.contacts.rules import CONTACT
from app.services.data_quality import queries
from app.services.data_quality.rules import Issue, RecordType
from resolvers.common.pagination import Edge, PageInfo
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.context import Context
from resolvers.data_quality.types import DataQualityIssue, DataQualityIssueConnection
from resolvers.permissions import CanRead
from resolvers.search.types import RecordOf

DESCRIPTION = (
    "Every role: stored values that fail today's checks (VAT ids, tax and register numbers, "
    "register courts, German postcodes, e-mail addresses, phone numbers), written before the "
    "checks or kept from a Lexware import or sync: each with its record, field, value and "
    "reason. "
    "Companies' fields first, then e-mail addresses, then phone numbers, each in a stable "
    "order; keyset-paged."
)


async def _record(info: Info[Context, None], issue: Issue) -> Any:
    loaders = info.context.loaders
    if issue.record_type is RecordType.COMPANY:
        company = await loaders.by_id(COMPANY).load(issue.record_id)
        return None if company is None else strawberry.cast(Company, RecordOf(company))
    contact = await loaders.by_id(CONTACT).load(issue.record_id)
    return None if contact is None else strawberry.cast(Contact, RecordOf(contact))


@strawberry.type
class DataQualityQueries:
    @strawberry.field(permission_classes=[CanRead], description=DESCRIPTION)
    async def data_quality_issues(
        self,
        info: Info[Context, None],
        first: Annotated[
            int,
            strawberry.argument(
                description=f"At most this many issues, 0 to {queries.MAX_FIRST} "
                "(default 50; more is BAD_USER_INPUT). A page may hold fewer and still "
                "have a next one: see `scanned`."
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The endCursor of the page before; a cursor of another list is "
                "BAD_USER_INPUT."
            ),
        ] = None,
    ) -> DataQualityIssueConnection:
        page = await queries.issues_page(info.context.scope, first, after)
        records = await asyncio.gather(*(_record(info, issue) for _, issue in page.issues))
        edges = [
            Edge(cursor=cursor, node=DataQualityIssue.of(issue, record))
            for (cursor, issue), record in zip(page.issues, records, strict=True)
        ]
        page_info = PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.end_cursor,
        )
        return DataQualityIssueConnection(edges=edges, page_info=page_info, scanned=page.scanned)
