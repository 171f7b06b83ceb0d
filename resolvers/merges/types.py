"""What mergeCompanies and mergeContacts answer: the survivor, the merged records as they were,
and what moved."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.services.merges.rules import MAX_MERGED, MergeOutcome, Moved
from resolvers.common.relations import LIST_SIZE
from resolvers.merges.loaders import MergedView

if TYPE_CHECKING:
    from resolvers.companies.types import Company
    from resolvers.contacts.types import Contact

CompanyRef = Annotated["Company", strawberry.lazy("resolvers.companies.types")]
ContactRef = Annotated["Contact", strawberry.lazy("resolvers.contacts.types")]


@strawberry.enum(description="What points at a merged record and follows the survivor.")
class MergeRelation(enum.Enum):
    DEALS = strawberry.enum_value("deals", description="Deals of the merged records (ids: deals).")
    CONTACTS = strawberry.enum_value(
        "contacts", description="Contacts working for a merged company (ids: contacts)."
    )
    ACTIVITIES = strawberry.enum_value(
        "activities", description="Activities linked to the merged records (ids: activities)."
    )
    CONTRACTS = strawberry.enum_value(
        "contracts", description="Contracts of a merged company (ids: contracts)."
    )
    LEXWARE_VOUCHERS = strawberry.enum_value(
        "lexwareVouchers",
        description="Cached Lexware vouchers the CRM had assigned to a merged record (ids: "
        "LexwareVoucher ids).",
    )
    DEAL_VOUCHER_LINKS = strawberry.enum_value(
        "dealVoucherLinks",
        description="Voucher links of the moved deals, which follow them unchanged (ids: the "
        "links).",
    )
    RELATIONSHIPS = strawberry.enum_value(
        "relationships",
        description="Company relationships of a merged company (ids: relationships).",
    )
    EMAILS = strawberry.enum_value(
        "emails", description="E-mail addresses of the merged records (ids: Email ids)."
    )
    PHONES = strawberry.enum_value(
        "phones", description="Phone numbers of the merged records (ids: Phone ids)."
    )
    OWNERS = strawberry.enum_value(
        "owners", description="Owner entries of the merged records (ids: the owner entries)."
    )


@strawberry.type(description="What a merge did to one relation.")
class MergeMove:
    relation: MergeRelation = strawberry.field(description="The relation this entry is about.")
    moved_ids: list[strawberry.ID] = strawberry.field(
        description="Re-pointed at the survivor (deal-voucher links: those of the moved deals, "
        "which follow them unchanged)."
    )
    dropped_ids: list[strawberry.ID] = strawberry.field(
        description="Deleted as duplicates of what the survivor has (the same e-mail or phone, "
        "an owner listed twice, a relationship the survivor has already or one to itself)."
    )


def _moves(moved: tuple[Moved, ...]) -> list[MergeMove]:
    return [
        MergeMove(
            relation=MergeRelation(m.relation),
            moved_ids=[strawberry.ID(str(i)) for i in m.moved],
            dropped_ids=[strawberry.ID(str(i)) for i in m.dropped],
        )
        for m in moved
    ]


LEXWARE_NOTE = (
    "Lexware Office keeps the Lexware contacts the survivor is not linked to: they are unlinked "
    "here and left unchanged there."
)


@strawberry.type
class _MergePayload:
    merged_ids: list[strawberry.ID] = strawberry.field(
        description="The ids merged into the survivor, in the order given: from now on they "
        "answer the survivor (company(id)/contact(id)), and writes to them are NOT_FOUND."
    )
    moved: list[MergeMove] = strawberry.field(
        description="Per relation, what moved to the survivor and what was dropped.",
        metadata={LIST_SIZE: len(MergeRelation)},  # one entry per relation
    )
    changed_fields: list[str] = strawberry.field(
        description="The survivor's fields the merge changed (their old and new values are in "
        "the crm.<entity>.merged event)."
    )
    lexware_unlinked: list[strawberry.ID] = strawberry.field(
        description="Lexware contacts that were linked to a merged record (or the survivor) "
        "and are linked to nothing now; Lexware Office keeps them."
    )
    message: str | None = strawberry.field(
        description="A note to show the user: set when Lexware contacts were unlinked (Lexware "
        "Office keeps them); null otherwise."
    )
    dry_run: bool = strawberry.field(
        description="True: nothing was written; this is what the merge would do."
    )


def _common(outcome: MergeOutcome) -> dict[str, Any]:
    return {
        "merged_ids": [strawberry.ID(str(row.id)) for row in outcome.merged],
        "moved": _moves(outcome.moved),
        "changed_fields": list(outcome.changed),
        "lexware_unlinked": [strawberry.ID(str(i)) for i in outcome.lexware_unlinked],
        "message": LEXWARE_NOTE if outcome.lexware_unlinked else None,
        "dry_run": outcome.dry_run,
    }


def _merged(outcome: MergeOutcome) -> list[Any]:
    return [MergedView(row, outcome.survivor.id) for row in outcome.merged]


SURVIVOR = (
    "The survivor as it is after the merge (in a dry run: its own fields as they would be; "
    "its lists are read as stored now, `moved` says what would join them)."
)
MERGED = (
    "The merged records as they were just before the merge, each with `mergedInto`; their "
    "lists are read as stored now (empty after a merge: everything moved)."
)


# The query cost counts `merged` at the most a merge takes, not at a page's size.
_AT_MOST_MERGED = {LIST_SIZE: MAX_MERGED}


@strawberry.type(description="What mergeCompanies did, or would do in a dry run.")
class CompanyMergePayload(_MergePayload):
    survivor: CompanyRef = strawberry.field(description=SURVIVOR)
    merged: list[CompanyRef] = strawberry.field(description=MERGED, metadata=_AT_MOST_MERGED)

    @classmethod
    def of(cls, outcome: MergeOutcome) -> CompanyMergePayload:
        return cls(survivor=outcome.survivor, merged=_merged(outcome), **_common(outcome))


@strawberry.type(description="What mergeContacts did, or would do in a dry run.")
class ContactMergePayload(_MergePayload):
    survivor: ContactRef = strawberry.field(description=SURVIVOR)
    merged: list[ContactRef] = strawberry.field(description=MERGED, metadata=_AT_MOST_MERGED)

    @classmethod
    def of(cls, outcome: MergeOutcome) -> ContactMergePayload:
        return cls(survivor=outcome.survivor, merged=_merged(outcome), **_common(outcome))
