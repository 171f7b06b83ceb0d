"""duplicateCandidates(...) and the tenant-wide duplicates(type, first, after) report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.data.pagination import clamp_first
from app.errors import BadUserInput
from app.services.duplicates import queries, report
from app.services.duplicates.rules import CompanyDraft, ContactDraft, DuplicateKind
from resolvers.common.described import PageAfter
from resolvers.common.inputs import parse_id
from resolvers.common.pagination import Connection, Edge, PageInfo
from resolvers.context import Context
from resolvers.duplicates.inputs import CompanyDraftInput, ContactDraftInput
from resolvers.duplicates.loaders import rows_of, with_records
from resolvers.duplicates.types import DuplicateCandidate, DuplicatePair, DuplicateType
from resolvers.permissions import CanRead

ONE_OF = ("companyId", "contactId", "company", "contact")
CANDIDATES = (
    "Records that may be the same as a saved one (companyId, contactId) or a draft (company, "
    "contact): exactly one of the four. Strongest first (ties by id), each with its score, "
    "strength and the rules that matched with both values. A record is never its own "
    "candidate. Every role."
)
REPORT = (
    "Pairs of records to clean up, each pair once, strongest rule first (companies: VAT id, "
    "e-mail, name and postcode, phone, website domain, equal folded name; contacts: e-mail, "
    "name and company, phone, equal folded name), within a rule by the shared value; each "
    "pair under the strongest rule it shares, with all it shares and its score. A value more "
    "than 20 records share (a switchboard, a group's info@ address) is left out. Every role."
)
REPORT_DEFAULT, REPORT_MAX = 20, 100


def _company_draft(draft: CompanyDraftInput) -> CompanyDraft:
    return CompanyDraft(
        id=parse_id(draft.id, "company.id") if draft.id else None,
        name=draft.name,
        vat_id=draft.vat_id,
        website=draft.website,
        zip=draft.zip,
        emails=draft.emails,
        phones=draft.phones,
        lexware_contact_id=(
            parse_id(draft.lexware_contact_id, "company.lexwareContactId")
            if draft.lexware_contact_id
            else None
        ),
    )


def _contact_draft(draft: ContactDraftInput) -> ContactDraft:
    return ContactDraft(
        id=parse_id(draft.id, "contact.id") if draft.id else None,
        first_name=draft.first_name,
        last_name=draft.last_name,
        company_id=parse_id(draft.company_id, "contact.companyId") if draft.company_id else None,
        emails=draft.emails,
        phones=draft.phones,
        lexware_contact_id=(
            parse_id(draft.lexware_contact_id, "contact.lexwareContactId")
            if draft.lexware_contact_id
            else None
        ),
    )


@strawberry.type
class DuplicateQueries:
    @strawberry.field(permission_classes=[CanRead], description=CANDIDATES)
    async def duplicate_candidates(
        self,
        info: Info[Context, None],
        company_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A saved company to check; another tenant's or unknown: NOT_FOUND."
            ),
        ] = None,
        contact_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A saved contact to check; another tenant's or unknown: NOT_FOUND."
            ),
        ] = None,
        company: Annotated[
            CompanyDraftInput | None,
            strawberry.argument(description="A company form's values before saving."),
        ] = None,
        contact: Annotated[
            ContactDraftInput | None,
            strawberry.argument(description="A contact form's values before saving."),
        ] = None,
        first: Annotated[
            int,
            strawberry.argument(
                description=f"At most this many candidates, 0 to {queries.MAX_CANDIDATES} "
                "(default 10; more is BAD_USER_INPUT)."
            ),
        ] = 10,
    ) -> list[DuplicateCandidate]:
        given = [company_id, contact_id, company, contact]
        if sum(value is not None for value in given) != 1:
            raise BadUserInput.single(", ".join(ONE_OF), "exactly one of these must be sent")
        size = clamp_first(first, default=10, maximum=queries.MAX_CANDIDATES)
        scope = info.context.scope
        if company_id is not None or contact_id is not None:
            kind = DuplicateKind.COMPANY if company_id is not None else DuplicateKind.CONTACT
            name = "companyId" if company_id is not None else "contactId"
            record_id = parse_id(company_id or contact_id or "", name)
            found = await queries.candidates_of_record(scope, kind, record_id, size)
        else:
            draft = _company_draft(company) if company is not None else None
            keys = draft.keys() if draft else _contact_draft(contact).keys()  # type: ignore[arg-type]
            kind = keys.kind
            found = await queries.candidates_of_draft(scope, keys, size)
        return await with_records(info, kind, found)

    @strawberry.field(permission_classes=[CanRead], description=REPORT)
    async def duplicates(
        self,
        info: Info[Context, None],
        type: Annotated[
            DuplicateType,  # type: ignore[valid-type]
            strawberry.argument(description="Pairs of companies or pairs of contacts."),
        ],
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"How many pairs: unset {REPORT_DEFAULT}, at most {REPORT_MAX} "
                "(more is BAD_USER_INPUT)."
            ),
        ] = None,
        after: PageAfter = None,
    ) -> Connection[DuplicatePair]:
        kind = DuplicateKind(type.value) if not isinstance(type, DuplicateKind) else type
        size = clamp_first(first, default=REPORT_DEFAULT, maximum=REPORT_MAX)
        scope = info.context.scope
        page = await report.report_page(scope, kind, size, after)
        ids = [record_id for pair in page.pairs for record_id in (pair.first_id, pair.second_id)]
        rows = await rows_of(info, kind, ids)
        edges = [
            Edge(cursor=pair.cursor, node=DuplicatePair.of(kind, pair, first_row, second_row))
            for pair, first_row, second_row in zip(page.pairs, rows[::2], rows[1::2], strict=True)
            if first_row is not None and second_row is not None
        ]
        count: Callable[[], Awaitable[int]] = partial(report.count_pairs, scope, kind)
        page_info = PageInfo(
            has_next_page=page.has_more,
            has_previous_page=after is not None,
            start_cursor=page.pairs[0].cursor if page.pairs else None,
            end_cursor=page.pairs[-1].cursor if page.pairs else None,
        )
        return Connection(edges=edges, page_info=page_info, count_items=count)
