"""Companies and contacts linked to Lexware contacts: link, unlink, import, sync (the push is
in lexware_push).

One Lexware contact links to at most one CRM record per tenant (companies and contacts
together): the link is claimed under a per-tenant advisory lock on the Lexware id, and unique
indexes back it up. Each link keeps the mapped Lexware fields as last synced (link, import,
push, sync): the base of the next push's three-way merge (app.lexware.fields).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import BadUserInput, Conflict, FieldProblem
from app.lexware import fields, mapping
from app.lexware.client import LexwareClient
from app.lexware.fields import Fields
from app.lexware.mapping import CrmData
from app.services import companies, contacts, records
from app.services.records import Entity, SystemChange
from app.tenancy import TenantScope, execute_rows
from models import Company, Contact, ContactEmail, ContactPhone

LEXWARE_ID = "lexwareContactId"
SYNCED_VALUES = "lexware_synced_values"


@dataclass(frozen=True)
class RecordKind:
    """A CRM record type that links to Lexware: companies to company contacts, contacts to
    person contacts."""

    name: str
    entity: Entity
    owner_column: str
    lexware_company: bool
    create: Callable[..., Awaitable[Row[Any]]]
    update: Callable[..., Awaitable[Row[Any]]]

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


class LinkChange(SystemChange):
    """The link's values with its events; the synced values are bookkeeping no event shows."""

    def record(self, session: AsyncSession, entity: Entity, row: Row[Any]) -> None:
        shown = {k: v for k, v in self.values.items() if k != SYNCED_VALUES}
        SystemChange(shown, self.verbs).record(session, entity, row)


def path(lexware_id: uuid.UUID) -> str:
    return f"/v1/contacts/{lexware_id}"


async def fetch(
    client: LexwareClient, kind: RecordKind, lexware_id: uuid.UUID, action: str = "link"
) -> dict[str, Any]:
    """The Lexware contact, which must be of the kind that links to this record type (`action`:
    link, import or sync, for the message)."""
    contact: dict[str, Any] = await client.get(path(lexware_id))
    if mapping.is_company(contact) != kind.lexware_company:
        raise _wrong_kind(kind, lexware_id, action)
    return contact


def _wrong_kind(kind: RecordKind, lexware_id: uuid.UUID, action: str) -> BadUserInput:
    """Say what the Lexware contact is and what it goes with: companies link to company
    contacts, contacts to persons."""
    actual, record = ("a person", "contact") if kind.lexware_company else ("a company", "company")
    said = f"Lexware contact {lexware_id} is {actual}"
    if action == "sync":
        field, message = "id", f"{said}; a {kind.name} takes data only from a {record} contact."
    elif action == "import":
        field, message = LEXWARE_ID, f"{said}; import it as a {record}, not as a {kind.name}."
    else:
        field, message = LEXWARE_ID, f"{said}; link it to a {record}, not to a {kind.name}."
    return BadUserInput([FieldProblem(field, message)], message)


async def _claim(
    session: AsyncSession,
    scope: TenantScope,
    lexware_id: uuid.UUID,
    kind: RecordKind,
    record_id: uuid.UUID | None,
) -> None:
    """Serialize links of one Lexware id in the tenant; refuse one that is taken elsewhere."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"crm:lexware-link:{scope.tenant_id}:{lexware_id}"},
    )
    for model, label in ((Company, "company"), (Contact, "contact")):
        taken = sa.select(col(model.id)).where(col(model.lexware_contact_id) == lexware_id)
        holder = (await execute_rows(session, taken)).scalar_one_or_none()
        if holder is not None and not (label == kind.name and holder == record_id):
            raise Conflict(
                f"This Lexware contact is already linked to a {label}.",
                linkedTo={"type": label.upper(), "id": str(holder)},
            )


def _link_values(
    lexware_id: uuid.UUID | None, version: int | None, synced: Fields | None
) -> dict[str, Any]:
    return {
        "lexware_contact_id": lexware_id,
        "lexware_contact_version": version,
        "lexware_synced_at": None if lexware_id is None else sa.func.now(),
        SYNCED_VALUES: synced,
    }


async def store_link(
    scope: TenantScope,
    kind: RecordKind,
    record_id: uuid.UUID,
    lexware_id: uuid.UUID,
    version: int | None,
    verbs: tuple[str, ...],
    synced: Fields,
    pushed_state: Row[Any] | None = None,
) -> Row[Any]:
    """Point the record at the Lexware contact (and remember its version and its `synced`
    fields). After a push, `pushed_state` is the row as it was sent: the record counts as
    synced up to that state, so an edit made while the push ran is still to be pushed."""

    async def claim(session: AsyncSession) -> None:
        await _claim(session, scope, lexware_id, kind, record_id)

    values = _link_values(lexware_id, version, synced)
    if pushed_state is not None:
        values["lexware_synced_at"] = pushed_state.updated_at
        values["updated_at"] = kind.entity.column("updated_at")  # bookkeeping is no edit
    system = LinkChange(values, verbs)
    steps = system.steps(kind.entity, records.UpdateSteps(lock=claim))
    relinked = pushed_state is None or pushed_state.lexware_contact_id != lexware_id
    return await records.update_row(
        scope, kind.entity, record_id, values, steps=steps, bump_version=relinked
    )


async def link(
    client: LexwareClient, scope: TenantScope, kind: RecordKind, record_id: uuid.UUID,
    lexware_id: uuid.UUID,
) -> Row[Any]:  # fmt: skip
    await records.get_row(scope, kind.entity, record_id)  # NOT_FOUND before calling Lexware
    contact = await fetch(client, kind, lexware_id)
    synced = fields.of_lexware(contact)
    version = contact.get("version")
    return await store_link(
        scope, kind, record_id, lexware_id, version, ("lexware_linked",), synced
    )


async def unlink(scope: TenantScope, kind: RecordKind, record_id: uuid.UUID) -> Row[Any]:
    row = await records.get_row(scope, kind.entity, record_id)
    if row.lexware_contact_id is None:
        raise BadUserInput.single("id", "is not linked to Lexware")
    system = LinkChange(_link_values(None, None, None), ("lexware_unlinked",))
    steps = system.steps(kind.entity, None)
    return await records.update_row(scope, kind.entity, record_id, system.values, steps=steps)


async def linked_record(
    scope: TenantScope, kind: RecordKind, lexware_id: uuid.UUID
) -> Row[Any] | None:
    entity = kind.entity
    statement = sa.select(*entity.columns).where(entity.column("lexware_contact_id") == lexware_id)
    async with scope.reading() as session:
        return (await execute_rows(session, statement)).first()


def _input(kind: RecordKind, crm: CrmData) -> dict[str, Any]:
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
    client: LexwareClient, scope: TenantScope, kind: RecordKind, lexware_id: uuid.UUID
) -> Row[Any]:
    """Create the record from the Lexware contact, linked; an already linked one is returned."""
    existing = await linked_record(scope, kind, lexware_id)
    if existing is not None:
        return existing
    contact = await fetch(client, kind, lexware_id, "import")
    values = _link_values(lexware_id, contact.get("version"), fields.of_lexware(contact))
    system = LinkChange(values, ("lexware_linked",))
    try:
        return await kind.create(scope, _input(kind, kind.from_lexware(contact)), system)
    except Conflict:
        found = await linked_record(scope, kind, lexware_id)  # imported at the same time
        if found is None:
            raise
        return found


# ---- the CRM's data (for a push) and sync (Lexware -> CRM) ------------------------------


async def _values(
    scope: TenantScope, model: Any, column: str, owner_id: uuid.UUID, value: str
) -> list[mapping.Value]:
    owner = col(getattr(model, column))
    statement = (
        sa.select(col(getattr(model, value)), col(model.type), col(model.is_primary))
        .where(owner == owner_id)
        .order_by(col(model.created_at), col(model.id))
    )
    async with scope.reading() as session:
        rows = (await execute_rows(session, statement)).all()
    return [mapping.Value(row[0], row[1].value, row[2]) for row in rows]


async def crm_data(scope: TenantScope, kind: RecordKind, row: Row[Any]) -> CrmData:
    values = dict(row._mapping)
    emails = await _values(scope, ContactEmail, kind.owner_column, row.id, "email")
    phones = await _values(scope, ContactPhone, kind.owner_column, row.id, "phone")
    return CrmData(values, emails, phones)


async def primary_person(scope: TenantScope, company_id: uuid.UUID) -> mapping.PersonData | None:
    """The company's first contact (the oldest) is its primary contact person in Lexware."""
    statement = (
        sa.select(*contacts.CONTACT.columns)
        .where(col(Contact.company_id) == company_id)
        .order_by(col(Contact.created_at), col(Contact.id))
        .limit(1)
    )
    async with scope.reading() as session:
        person = (await execute_rows(session, statement)).first()
    if person is None:
        return None
    data = await crm_data(scope, CONTACT_KIND, person)
    email = next((v.value for v in data.emails if v.is_primary), None)
    phone = next((v.value for v in data.phones if v.is_primary), None)
    return mapping.PersonData(person.salutation, person.first_name, person.last_name, email, phone)


async def crm_fields(scope: TenantScope, kind: RecordKind, row: Row[Any]) -> Fields:
    """The record's mapped Lexware fields (app.lexware.fields)."""
    data = await crm_data(scope, kind, row)
    return await _fields_of(scope, kind, row.id, data)


async def _fields_of(
    scope: TenantScope, kind: RecordKind, record_id: uuid.UUID, data: CrmData
) -> Fields:
    person = await primary_person(scope, record_id) if kind.lexware_company else None
    return fields.of_crm(data, person, company=kind.lexware_company)


async def sync(
    client: LexwareClient, scope: TenantScope, kind: RecordKind, record_id: uuid.UUID
) -> Row[Any]:
    """Take Lexware's data into the record. E-mails and phones Lexware lacks stay in the CRM
    (it keeps one per kind); new ones are added."""
    row = await records.get_row(scope, kind.entity, record_id)
    if row.lexware_contact_id is None:
        raise BadUserInput.single("id", "is not linked to Lexware; link or push it first")
    contact = await fetch(client, kind, row.lexware_contact_id, "sync")
    incoming = kind.from_lexware(contact)
    current = await crm_data(scope, kind, row)
    emails = _merged(current.emails, incoming.emails)
    phones = _merged(current.phones, incoming.phones)
    data: dict[str, Any] = dict(incoming.fields)
    data["emails"] = [
        {"email": v.value, "type": v.type, "is_primary": v.is_primary} for v in emails
    ]
    data["phones"] = [
        {"phone": v.value, "type": v.type, "is_primary": v.is_primary} for v in phones
    ]
    after = CrmData({**current.fields, **incoming.fields}, emails, phones)
    ours = await _fields_of(scope, kind, record_id, after)
    synced = fields.agreed(fields.of_lexware(contact), ours, row.lexware_synced_values)
    values = _link_values(row.lexware_contact_id, contact.get("version"), synced)
    system = LinkChange(values, ("lexware_synced",))
    return await kind.update(scope, record_id, data, None, system)


def _merged(mine: list[mapping.Value], theirs: list[mapping.Value]) -> list[mapping.Value]:
    known = {mapping.same_value(v.value) for v in mine}
    added = [
        mapping.Value(v.value, v.type, False)
        for v in theirs
        if mapping.same_value(v.value) not in known
    ]
    merged = list(mine) + added
    if merged and not any(v.is_primary for v in merged):
        merged[0] = mapping.Value(merged[0].value, merged[0].type, True)
    return merged
