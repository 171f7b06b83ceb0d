"""Companies and contacts linked to Lexware contacts: link, unlink, import (the push is in
lexware.push, the sync from Lexware in lexware.pull).

One Lexware contact links to at most one CRM record per tenant (companies and contacts
together): the link is claimed under a per-tenant advisory lock on the Lexware id, and unique
indexes back it up. Each link keeps both sides' mapped fields as last synced (link, import,
push, sync): the base of the next push's three-way merge (app.lexware.fields). The CRM's are
read from the record as stored, in the unit of work that writes it. Link, unlink, sync and
push of a record hold its lease (lexware_lease): one at a time.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.records import Entity, SystemChange
from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading, UnitOfWork
from app.errors import BadUserInput, Conflict, FieldProblem
from app.lexware import fields, mapping
from app.lexware.client import LexwareClient
from app.lexware.connector import LexwareConnector
from app.lexware.fields import Fields, Synced
from app.lexware.mapping import CrmData
from app.services.common import identifiers
from app.services.companies import service as companies
from app.services.contacts import service as contacts
from app.services.lexware import deal_parties as lexware_deal_parties
from app.services.lexware.lease import record_lease
from app.services.lexware.rows import LinkedRow
from models import Company, Contact, ContactEmail, ContactPhone

log = logging.getLogger(__name__)
LEXWARE_ID = "lexwareContactId"
SYNCED_VALUES = "lexware_synced_values"


KindRowT = TypeVar("KindRowT", bound=LinkedRow, covariant=True)
RecordT = TypeVar("RecordT", bound=LinkedRow)  # the rows of the kind a function is given


@dataclass(frozen=True)
class RecordKind(Generic[KindRowT]):
    """A CRM record type that links to Lexware: companies to company contacts, contacts to
    person contacts."""

    name: str
    entity: Entity[KindRowT]
    owner_column: str
    lexware_company: bool
    create: Callable[..., Awaitable[KindRowT]]
    update: Callable[..., Awaitable[KindRowT]]

    def from_lexware(self, contact: Mapping[str, Any]) -> CrmData:
        if self.lexware_company:
            return mapping.company_from_lexware(contact)
        return mapping.contact_from_lexware(contact)


COMPANY_KIND = RecordKind(
    "company", companies.COMPANY, "company_id", True, companies.create_company,
    companies.update_company,
)  # fmt: skip
CONTACT_KIND = RecordKind(
    "contact", contacts.CONTACT, "contact_id", False, contacts.create_contact,
    contacts.update_contact,
)  # fmt: skip


@dataclass(frozen=True)
class LinkChange(SystemChange):
    """The link's values with its events; the synced values are bookkeeping no event shows.
    `lexware`: Lexware's fields now, stored with the CRM's as read once the record is written
    (import, sync). `relinked`: the record's Lexware contact changes (link, unlink): the
    vouchers of its deals must still belong to their customer."""

    kind: RecordKind[LinkedRow] | None = None
    lexware: Fields | None = None
    relinked: bool = False

    def record(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        shown = {k: v for k, v in self.values.items() if k != SYNCED_VALUES}
        SystemChange(shown, self.verbs).record(uow, entity, row)

    async def complete(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        assert self.kind is not None
        if self.relinked:
            await lexware_deal_parties.check_link_change(
                uow, self.kind.name, row.id, row.lexware_contact_id
            )
        if self.lexware is not None:
            crm = await crm_fields_in(uow, self.kind, row, prefer=self.lexware)
            stored = Synced(crm, self.lexware).stored()
            statement = (
                sa.update(entity.model)
                .where(entity.id == row.id)
                .values({SYNCED_VALUES: stored, "updated_at": entity.column("updated_at")})
                .execution_options(synchronize_session=False)
            )
            await uow.execute(statement)


def path(lexware_id: uuid.UUID) -> str:
    return f"/v1/contacts/{lexware_id}"


async def fetch(
    client: LexwareClient, kind: RecordKind[LinkedRow], lexware_id: uuid.UUID, action: str = "link"
) -> dict[str, Any]:
    """The Lexware contact, which must be of the kind that links to this record type (`action`:
    link, import or sync, for the message)."""
    contact: dict[str, Any] = await client.get(path(lexware_id))
    if mapping.is_company(contact) != kind.lexware_company:
        raise wrong_kind(kind, lexware_id, action)
    return contact


def wrong_kind(kind: RecordKind[LinkedRow], lexware_id: uuid.UUID, action: str) -> BadUserInput:
    """Say what the Lexware contact is and what it goes with: companies link to company
    contacts, contacts to persons."""
    actual, record = ("a person", "contact") if kind.lexware_company else ("a company", "company")
    wanted = "company" if kind.lexware_company else "person"
    said = f"Lexware contact {lexware_id} is {actual}"
    if action == "sync":
        field = "id"
        message = f"{said}; a {kind.name} takes data only from a {wanted} contact."
    elif action == "push":
        field = "id"
        message = (
            f"{said} now; a {kind.name} is pushed only to a {wanted} contact. Unlink the "
            f"{kind.name} (its next push creates a {wanted} contact) or link it to one."
        )
    elif action == "import":
        field, message = LEXWARE_ID, f"{said}; import it as a {record}, not as a {kind.name}."
    else:
        field, message = LEXWARE_ID, f"{said}; link it to a {record}, not to a {kind.name}."
    return BadUserInput([FieldProblem(field, message)], message)


async def _claim(
    uow: UnitOfWork,
    scope: TenantScope,
    lexware_id: uuid.UUID,
    kind: RecordKind[LinkedRow],
    record_id: uuid.UUID | None,
) -> None:
    """Serialize links of one Lexware id in the tenant; refuse one that is taken elsewhere."""
    await uow.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"crm:lexware-link:{scope.tenant_id}:{lexware_id}"},
    )
    for model, label in ((Company, "company"), (Contact, "contact")):
        taken = sa.select(col(model.id)).where(col(model.lexware_contact_id) == lexware_id)
        holder = (await uow.execute_rows(taken)).scalar_one_or_none()
        if holder is not None and not (label == kind.name and holder == record_id):
            raise Conflict(
                f"This Lexware contact is already linked to a {label}.",
                linkedTo={"type": label.upper(), "id": str(holder)},
            )


def _link_values(
    lexware_id: uuid.UUID | None, version: int | None, synced: Synced | None
) -> dict[str, Any]:
    return {
        "lexware_contact_id": lexware_id,
        "lexware_contact_version": version,
        "lexware_synced_at": None if lexware_id is None else sa.func.now(),
        SYNCED_VALUES: None if synced is None else synced.stored(),
    }


def later_values(lexware_id: uuid.UUID, version: int | None) -> dict[str, Any]:
    """A link whose synced values LinkChange stores once the record is written."""
    values = _link_values(lexware_id, version, None)
    del values[SYNCED_VALUES]
    return values


async def store_link(
    scope: TenantScope,
    kind: RecordKind[RecordT],
    record_id: uuid.UUID,
    lexware_id: uuid.UUID,
    version: int | None,
    verbs: tuple[str, ...],
    synced: Synced,
    pushed_state: LinkedRow | None = None,
) -> RecordT:
    """Point the record at the Lexware contact (and remember its version and both sides'
    `synced` fields). After a push, `pushed_state` is the row as it was sent: the record counts
    as synced up to that state, so an edit made while the push ran is still to be pushed.
    A link (no `pushed_state`) checks the vouchers of the record's deals."""

    async def claim(uow: UnitOfWork) -> None:
        await _claim(uow, scope, lexware_id, kind, record_id)

    values = _link_values(lexware_id, version, synced)
    if pushed_state is not None:
        values["lexware_synced_at"] = pushed_state.updated_at
        values["updated_at"] = kind.entity.column("updated_at")  # bookkeeping is no edit
    system = LinkChange(values, verbs, kind=kind, relinked=pushed_state is None)
    steps = system.steps(kind.entity, records.UpdateSteps(lock=claim))
    relinked = pushed_state is None or pushed_state.lexware_contact_id != lexware_id
    return await records.update_row(
        scope, kind.entity, record_id, values, steps=steps, bump_version=relinked
    )


async def link(
    connector: LexwareConnector, scope: TenantScope, kind: RecordKind[RecordT],
    record_id: uuid.UUID, lexware_id: uuid.UUID,
) -> RecordT:  # fmt: skip
    """Link the record; what it holds differently from Lexware counts as the CRM's change, for
    its next push to write."""
    client = await connector.client(scope)
    async with record_lease(connector.redis, record_id):
        await records.get_row(scope, kind.entity, record_id)  # NOT_FOUND before Lexware's
        contact = await fetch(client, kind, lexware_id)
        company = kind.lexware_company
        synced = Synced(
            fields.crm_view_of_lexware(contact, company=company), fields.of_lexware(contact)
        )
        version = contact.get("version")
        return await store_link(
            scope, kind, record_id, lexware_id, version, ("lexware_linked",), synced
        )


async def unlink(
    redis: Redis, scope: TenantScope, kind: RecordKind[RecordT], record_id: uuid.UUID
) -> RecordT:
    async with record_lease(redis, record_id):
        row = await records.get_row(scope, kind.entity, record_id)
        if row.lexware_contact_id is None:
            raise BadUserInput.single("id", "is not linked to Lexware")
        values = _link_values(None, None, None)
        system = LinkChange(values, ("lexware_unlinked",), kind=kind, relinked=True)
        steps = system.steps(kind.entity, None)
        return await records.update_row(scope, kind.entity, record_id, values, steps=steps)


async def linked_record(
    scope: TenantScope, kind: RecordKind[RecordT], lexware_id: uuid.UUID
) -> RecordT | None:
    entity = kind.entity
    return await records.find_row(scope, entity, entity.column("lexware_contact_id") == lexware_id)


def _input(kind: RecordKind[LinkedRow], crm: CrmData) -> dict[str, Any]:
    email_key, phone_key = "email", "phone"
    data: dict[str, Any] = {k: v for k, v in crm.fields.items() if v is not None}
    data["emails"] = [
        {email_key: v.value, "type": v.type, "is_primary": v.is_primary} for v in crm.emails
    ]
    data["phones"] = [
        {phone_key: v.value, "type": v.type, "is_primary": v.is_primary} for v in crm.phones
    ]
    if kind.name == "contact":
        data["source"] = "LEXWARE_IMPORT"
    return data


async def import_record(
    client: LexwareClient, scope: TenantScope, kind: RecordKind[RecordT], lexware_id: uuid.UUID
) -> RecordT:
    """Create the record from the Lexware contact, linked; an already linked one is returned."""
    existing = await linked_record(scope, kind, lexware_id)
    if existing is not None:
        return existing
    contact = await fetch(client, kind, lexware_id, "import")
    values = later_values(lexware_id, contact.get("version"))
    system = LinkChange(values, ("lexware_linked",), kind=kind, lexware=fields.of_lexware(contact))
    try:
        with identifiers.foreign_values() as notes:
            created = await kind.create(scope, _input(kind, kind.from_lexware(contact)), system)
        log_kept(kind, created.id, "import", notes)
        return created
    except Conflict:
        found = await linked_record(scope, kind, lexware_id)  # imported at the same time
        if found is None:
            raise
        return found


# ---- the CRM's data (for a push and a sync) ---------------------------------------------


async def _values(
    reads: Reading, model: Any, column: str, owner_id: uuid.UUID, value: str
) -> list[mapping.Value]:
    owner = col(getattr(model, column))
    statement = (
        sa.select(col(getattr(model, value)), col(model.type), col(model.is_primary))
        .where(owner == owner_id)
        .order_by(col(model.created_at), col(model.id))
    )
    rows = (await reads.execute_rows(statement)).all()
    return [mapping.Value(row[0], row[1].value, row[2]) for row in rows]


async def crm_data(reads: Reading, kind: RecordKind[LinkedRow], row: LinkedRow) -> CrmData:
    values = {column.key: getattr(row, column.key) for column in kind.entity.columns}
    emails = await _values(reads, ContactEmail, kind.owner_column, row.id, "email")
    phones = await _values(reads, ContactPhone, kind.owner_column, row.id, "phone")
    return CrmData(values, emails, phones)


async def primary_person(reads: Reading, company_id: uuid.UUID) -> mapping.PersonData | None:
    """The company's first contact (the oldest) is its primary contact person in Lexware."""
    statement = (
        sa.select(*contacts.CONTACT.columns)
        .where(col(Contact.company_id) == company_id)
        .order_by(col(Contact.created_at), col(Contact.id))
        .limit(1)
    )
    person = (await reads.execute_rows(statement)).first()
    if person is None:
        return None
    data = await crm_data(reads, CONTACT_KIND, person)
    email = next((v.value for v in data.emails if v.is_primary), None)
    phone = next((v.value for v in data.phones if v.is_primary), None)
    return mapping.PersonData(person.salutation, person.first_name, person.last_name, email, phone)


async def crm_fields_in(
    reads: Reading, kind: RecordKind[LinkedRow], row: LinkedRow, *, prefer: Fields | None
) -> Fields:
    """The record's mapped Lexware fields (app.lexware.fields), read in `reads`; `prefer`:
    which of several values of a type counts for its Lexware list."""
    data = await crm_data(reads, kind, row)
    person = await primary_person(reads, row.id) if kind.lexware_company else None
    return fields.of_crm(data, person, company=kind.lexware_company, prefer=prefer)


async def crm_fields(
    scope: TenantScope, kind: RecordKind[LinkedRow], row: LinkedRow, *, prefer: Fields | None
) -> Fields:
    async with scope.reading() as reads:
        return await crm_fields_in(reads, kind, row, prefer=prefer)


async def synced_of(
    scope: TenantScope, kind: RecordKind[LinkedRow], record_id: uuid.UUID
) -> Synced | None:
    """Both sides' fields as last synced (read apart from the row: only the push needs them)."""
    statement = sa.select(kind.entity.column(SYNCED_VALUES)).where(kind.entity.id == record_id)
    async with scope.reading() as reads:
        return Synced.of((await reads.execute_rows(statement)).scalar_one_or_none())


def log_kept(
    kind: RecordKind[LinkedRow], record_id: uuid.UUID, action: str, notes: list[identifiers.Note]
) -> None:
    """Values from Lexware that fail the CRM's checks are kept (the sync must not break on
    data only Lexware can fix) and listed by dataQualityIssues; the log says so, without them."""
    if notes:
        reasons = ", ".join(sorted({note.reason.value for note in notes}))
        dropped = sum(not note.kept for note in notes)
        log.warning(
            "Lexware %s of %s %s: %d value(s) failing the checks (%s) kept, %d too long dropped",
            action, kind.name, record_id, len(notes) - dropped, reasons, dropped,
        )  # fmt: skip
