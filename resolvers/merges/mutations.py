"""mergeCompanies and mergeContacts."""

from __future__ import annotations

from collections.abc import Sequence

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
    "crm.{entity}.merged. `dryRun: true` answers the same without writing anything."
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
        survivor_id: strawberry.ID,
        merged_ids: list[strawberry.ID],
        expected_version: int,
        fields: list[CompanyFieldChoice] | None = None,
        lexware_from: strawberry.ID | None = None,
        dry_run: bool = False,
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
        survivor_id: strawberry.ID,
        merged_ids: list[strawberry.ID],
        expected_version: int,
        fields: list[ContactFieldChoice] | None = None,
        lexware_from: strawberry.ID | None = None,
        dry_run: bool = False,
    ) -> ContactMergePayload:
        request = _request(
            CONTACT_MERGE, survivor_id, merged_ids, expected_version, fields or [],
            lexware_from, dry_run,
        )  # fmt: skip
        return ContactMergePayload.of(await _merge(info, CONTACT_MERGE, request))
