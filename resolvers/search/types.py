"""The search result: hits across companies, contacts, deals, activities and contracts."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import strawberry

from app.services.search.highlights import MAX_HIGHLIGHTS, MAX_MATCHES, Match
from app.services.search.rules import SearchKind
from resolvers.activities.types import Activity
from resolvers.common.relations import LIST_SIZE
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.contracts.types import Contract
from resolvers.deals.types import Deal


@strawberry.enum(description="What a search hit is.")
class SearchType(Enum):
    COMPANY = strawberry.enum_value("company", description="A company: `record` is a Company.")
    CONTACT = strawberry.enum_value("contact", description="A contact: `record` is a Contact.")
    DEAL = strawberry.enum_value("deal", description="A deal: `record` is a Deal.")
    ACTIVITY = strawberry.enum_value(
        "activity", description="An activity: `record` is an Activity."
    )
    CONTRACT = strawberry.enum_value("contract", description="A contract: `record` is a Contract.")

    @property
    def kind(self) -> SearchKind:
        return SearchKind(self.value)


SearchRecord = Annotated[
    Company | Contact | Deal | Activity | Contract,
    strawberry.union("SearchRecord", description="The record a search hit is."),
]
GRAPHQL_TYPES: dict[SearchKind, type] = {
    SearchKind.COMPANY: Company,
    SearchKind.CONTACT: Contact,
    SearchKind.DEAL: Deal,
    SearchKind.ACTIVITY: Activity,
    SearchKind.CONTRACT: Contract,
}


class RecordOf:
    """A record's row as one type of the union (`strawberry.cast` marks it; a row cannot
    carry the mark itself). The type's fields read the row's attributes through it."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


@strawberry.type(description="A range of a matched text, for highlighting: [start, end).")
class TextRange:
    start: int = strawberry.field(description="Offset of the first character (code points).")
    end: int = strawberry.field(description="Offset after the last character.")


@strawberry.type(description="A value of the record that the query matched.")
class SearchMatch:
    field: str = strawberry.field(
        description="name, title, vatId, taxId, tradeRegisterNumber, number, email, phone, "
        "website, city, tags, subject or body."
    )
    text: str = strawberry.field(description="The value as stored.")
    highlights: list[TextRange] = strawberry.field(
        description=f"Where the query's words are in `text` (at most {MAX_HIGHLIGHTS}).",
        metadata={LIST_SIZE: MAX_HIGHLIGHTS},
    )

    @staticmethod
    def of(match: Match) -> SearchMatch:
        ranges = [TextRange(start=start, end=end) for start, end in match.highlights]
        return SearchMatch(field=match.field, text=match.text, highlights=ranges)


@strawberry.type(description="One record a search found, with why.")
class SearchHit:
    type: SearchType = strawberry.field(description="What kind of record it is.")
    score: float = strawberry.field(
        description="How well it matched (higher first): the average over the query's words "
        "of each word's best match, weighted by the field (name highest)."
    )
    record: SearchRecord = strawberry.field(
        description="The record itself, as its own type (select its fields with `... on "
        "Company { name }` and so on)."
    )
    matches: list[SearchMatch] = strawberry.field(
        description=f"The values that matched (at most {MAX_MATCHES}).",
        metadata={LIST_SIZE: MAX_MATCHES},
    )
