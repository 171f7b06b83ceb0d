"""search(query, types, first, after): one ranked list across the CRM's records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app.data.records import Entity
from app.errors import BadUserInput
from app.services.activities.rules import ACTIVITY
from app.services.companies.rules import COMPANY
from app.services.contacts.rules import CONTACT
from app.services.contracts.rules import CONTRACT
from app.services.deals.rules import DEAL
from app.services.search import queries
from app.services.search.rules import MAX_QUERY_LENGTH, SearchKind
from resolvers.common.described import PageAfter, PageBefore, PageFirst, PageLast
from resolvers.common.pagination import Connection, Edge, PageArguments, PageInfo, page_request
from resolvers.context import Context
from resolvers.permissions import CanRead
from resolvers.search.types import GRAPHQL_TYPES, RecordOf, SearchHit, SearchMatch, SearchType

ENTITIES: dict[SearchKind, Entity[Any]] = {
    SearchKind.COMPANY: COMPANY,
    SearchKind.CONTACT: CONTACT,
    SearchKind.DEAL: DEAL,
    SearchKind.ACTIVITY: ACTIVITY,
    SearchKind.CONTRACT: CONTRACT,
}

SEARCH = (
    "Records of every kind matching the query, best first: names, e-mail addresses, phone "
    "numbers (any format), VAT id, tax id, trade register number, website domain, city, "
    "tags, deal titles, activity subjects and bodies, contract titles and numbers. Case, "
    "accents and German spellings (ä/ae, ß/ss) do not matter, one or two typos are "
    "tolerated, words match as prefixes from two characters and in any order, legal forms "
    "(GmbH, AG, ...) weigh nothing. Keyset-paged to the end; a record is found as soon as "
    "it is written."
)


async def _records(info: Info[Context, None], page: queries.SearchPage) -> list[Any]:
    """Each hit's row (None if deleted since), one statement per kind on the page."""
    loaders = info.context.loaders
    rows: list[Any] = await asyncio.gather(
        *(loaders.by_id(ENTITIES[hit.kind]).load(hit.record_id) for hit in page.hits)
    )
    return rows


@strawberry.type
class SearchQueries:
    @strawberry.field(permission_classes=[CanRead], description=SEARCH)
    async def search(
        self,
        info: Info[Context, None],
        query: Annotated[
            str,
            strawberry.argument(
                description=f"What to find (at most {MAX_QUERY_LENGTH} characters)."
            ),
        ],
        types: Annotated[
            list[SearchType] | None,
            strawberry.argument(description="Only these kinds of record (null: all; []: none)."),
        ] = None,
        first: PageFirst = None,
        after: PageAfter = None,
        last: PageLast = None,
        before: PageBefore = None,
    ) -> Connection[SearchHit]:
        context = info.context
        search_query = queries.search_query(query)
        arguments = PageArguments(first=first, after=after, last=last, before=before)
        request = page_request(context.settings, arguments, False)
        if (request.before if not request.backward else request.after) is not None:
            # one cursor, read in the direction of travel (a ranked list has no range query)
            wrong = "before" if not request.backward else "after"
            raise BadUserInput.single(wrong, "search pages with first/after or last/before")
        kinds = None if types is None else [t.kind for t in dict.fromkeys(types)]
        if kinds is not None and not kinds:
            search_query = queries.SearchQuery(())
        cursor = request.before if request.backward else request.after
        page = await queries.search_page(
            context.scope, search_query, kinds or (), request.first, cursor, request.backward
        )
        rows = await _records(info, page)
        edges = [
            Edge(cursor=hit.cursor, node=_hit(hit, row))
            for hit, row in zip(page.hits, rows, strict=True)
            if row is not None
        ]
        count: Callable[[], Awaitable[int]] = partial(
            queries.count_hits, context.scope, search_query, kinds or ()
        )
        page_info = PageInfo(
            has_next_page=(before is not None) if request.backward else page.has_more,
            has_previous_page=page.has_more if request.backward else after is not None,
            start_cursor=page.hits[0].cursor if page.hits else None,
            end_cursor=page.hits[-1].cursor if page.hits else None,
        )
        return Connection(edges=edges, page_info=page_info, count_items=count)


def _hit(hit: queries.SearchHit, row: Any) -> SearchHit:
    record: Any = strawberry.cast(GRAPHQL_TYPES[hit.kind], RecordOf(row))
    return SearchHit(
        type=SearchType(hit.kind.value),
        score=float(hit.score),
        record=record,
        matches=[SearchMatch.of(match) for match in hit.matches],
    )
