"""mergeCompanies and mergeContacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.errors import BadUserInput
from app.services.merges import service
from app.services.merges.rules import (
    COMPANY_MERGE,
    CONTACT_MERGE,
    MAX_MERGED,
    MergeKind,
    MergeOutcome,
    MergeRequest,
)
from resolvers.common.inputs import parse_id
from resolvers.context import Context
from resolvers.merges.inputs import CompanyFieldChoice, ContactFieldChoice
from resolvers.merges.types import CompanyMergePayload, ContactMergePayload
from resolvers.permissions import CanWrite

SurvivorId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The record that stays and takes everything over; an unknown, trashed, "
        "merged-away or other tenant's id is NOT_FOUND."
    ),
]
MergedIds = Annotated[
    list[strawberry.ID],
    strawberry.argument(
        description=f"The records merged into the survivor and then deleted: 1 to {MAX_MERGED} "
        "ids, none twice, not the survivor (BAD_USER_INPUT); unknown, trashed or merged-away: "
        "NOT_FOUND. Their order decides ties (the first that has a value)."
    ),
]
SurvivorVersion = Annotated[
    int,
    strawberry.argument(
        description="The survivor's `version` as the user last saw it: if it changed since, "
        "the merge is a CONFLICT (extensions.currentVersion) and nothing changes."
    ),
]
LexwareFrom = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="When the records are linked to different Lexware contacts: the record "
        "(survivor or merged) whose link the survivor keeps; needed then, else CONFLICT."
    ),
]
DryRun = Annotated[
    bool,
    strawberry.argument(
        description="true: run the merge and roll it back, answering exactly what it would do; "
        "nothing is written and no event is emitted. Default false."
    ),
]
_FIELDS = (
    "Which record's value each named field takes, at most one choice per field; fields not "
    "named take the survivor's value, else the first merged record's that has one."
)

_MERGE = (
    "Merge the {what} of `mergedIds` (1 to 20) into `survivorId`, in one transaction. Each "
    "field takes the value of the record `fields` names, else the survivor's, else the first "
    "merged record's (in the order given) that has one. E-mails, phones (no duplicates: an "
    "e-mail ignoring case, a phone by its E.164 form, else its digits; the survivor's primary "
    "stays primary), tags "
    "and owners (each with the strongest role they held) are united; {moved} are re-pointed "
    "at the survivor. Two different Lexware links are a CONFLICT unless `lexwareFrom` names "
    "the record whose link the survivor keeps (the other Lexware contacts stay in Lexware "
    "Office, unlinked). `expectedVersion` is the survivor's (stale: CONFLICT). The merged "
    "records are deleted and their ids answer the survivor from then on; one event, "
    "crm.{entity}.merged. `dryRun: true` answers the same without writing anything. Member "
    "and admin."
)


def _request(
    kind: MergeKind,
    survivor_id: strawberry.ID,
    merged_ids: Sequence[strawberry.ID],
    expected_version: int,
    fields: Sequence[CompanyFieldChoice | ContactFieldChoice],
    lexware_from: strawberry.ID | None,
    dry_run: bool,
) -> MergeRequest:
    if len(merged_ids) > MAX_MERGED:  # before parsing a list of any length
        raise BadUserInput.single("mergedIds", f"must list 1 to {MAX_MERGED} ids")
    if len(fields) > len(kind.fields):  # more choices than fields: one is named twice
        raise BadUserInput.single("fields", "names a field more than once")
    return MergeRequest(
        survivor_id=parse_id(survivor_id, "survivorId"),
        merged_ids=tuple(parse_id(i, f"mergedIds[{n}]") for n, i in enumerate(merged_ids)),
        expected_version=expected_version,
        fields=tuple(
            (choice.field.value, parse_id(choice.from_id, f"fields[{n}].fromId"))
            for n, choice in enumerate(fields)
        ),
        lexware_from=None if lexware_from is None else parse_id(lexware_from, "lexwareFrom"),
        dry_run=dry_run,
    )


async def _merge(info: Info[Context, None], kind: MergeKind, request: MergeRequest) -> MergeOutcome:
    return await service.merge(info.context.scope, kind, request)


@strawberry.type
class MergeMutations:
    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_MERGE.format(
            what="companies",
            moved="contacts, deals (with their voucher links), activities, contracts, "
            "relationships (dropping duplicates and self-relations) and Lexware vouchers",
            entity="company",
        ),
    )
    async def merge_companies(
        self,
        info: Info[Context, None],
        survivor_id: SurvivorId,
        merged_ids: MergedIds,
        expected_version: SurvivorVersion,
        fields: Annotated[
            list[CompanyFieldChoice] | None, strawberry.argument(description=_FIELDS)
        ] = None,
        lexware_from: LexwareFrom = None,
        dry_run: DryRun = False,
    ) -> CompanyMergePayload:
        request = _request(
            COMPANY_MERGE, survivor_id, merged_ids, expected_version, fields or [],
            lexware_from, dry_run,
        )  # fmt: skip
        return CompanyMergePayload.of(await _merge(info, COMPANY_MERGE, request))

    @strawberry.mutation(
        permission_classes=[CanWrite],
        description=_MERGE.format(
            what="contacts",
            moved="deals (with their voucher links), activities and Lexware vouchers",
            entity="contact",
        ),
    )
    async def merge_contacts(
        self,
        info: Info[Context, None],
        survivor_id: SurvivorId,
        merged_ids: MergedIds,
        expected_version: SurvivorVersion,
        fields: Annotated[
            list[ContactFieldChoice] | None, strawberry.argument(description=_FIELDS)
        ] = None,
        lexware_from: LexwareFrom = None,
        dry_run: DryRun = False,
    ) -> ContactMergePayload:
        request = _request(
            CONTACT_MERGE, survivor_id, merged_ids, expected_version, fields or [],
            lexware_from, dry_run,
        )  # fmt: skip
        return ContactMergePayload.of(await _merge(info, CONTACT_MERGE, request))
