"""A linked record takes Lexware's data (Lexware -> CRM; the push, CRM -> Lexware, is in
lexware.push): its values, and Lexware's first e-mail and phone of each list."""

from __future__ import annotations

import uuid
from typing import Any

from app.data import records
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.lexware import fields, mapping
from app.lexware.connector import LexwareConnector
from app.lexware.fields import Fields
from app.services.common import identifiers
from app.services.lexware.contacts import (
    LinkChange,
    RecordKind,
    RecordT,
    crm_data,
    fetch,
    later_values,
    log_kept,
)
from app.services.lexware.lease import record_lease


async def sync(
    connector: LexwareConnector, scope: TenantScope, kind: RecordKind[RecordT], record_id: uuid.UUID
) -> RecordT:
    """Take Lexware's data into the record: its values (one Lexware lacks leaves the CRM's),
    and Lexware's first e-mail and phone of each list as the CRM's of that type. E-mails and
    phones Lexware lacks stay in the CRM (it keeps one per list); new ones are added."""
    client = await connector.client(scope)
    async with record_lease(connector.redis, record_id):
        row = await records.get_row(scope, kind.entity, record_id)
        if row.lexware_contact_id is None:
            raise BadUserInput.single("id", "is not linked to Lexware; link or push it first")
        contact = await fetch(client, kind, row.lexware_contact_id, "sync")
        incoming, theirs = kind.from_lexware(contact), fields.of_lexware(contact)
        async with scope.reading() as reads:
            current = await crm_data(reads, kind, row)
        emails = mapping.synced_values(
            current.emails,
            incoming.emails,
            _firsts(theirs, "emailAddresses"),
            mapping.EMAIL_TO_LEXWARE,
        )
        phones = mapping.synced_values(
            current.phones,
            incoming.phones,
            _firsts(theirs, "phoneNumbers"),
            mapping.PHONE_TO_LEXWARE,
        )
        data: dict[str, Any] = dict(incoming.fields)
        data["emails"] = [
            {"email": v.value, "type": v.type, "is_primary": v.is_primary} for v in emails
        ]
        data["phones"] = [
            {"phone": v.value, "type": v.type, "is_primary": v.is_primary} for v in phones
        ]
        values = later_values(row.lexware_contact_id, contact.get("version"))
        system = LinkChange(values, ("lexware_synced",), kind=kind, lexware=theirs)
        with identifiers.foreign_values() as notes:
            updated = await kind.update(scope, record_id, data, None, system)
        log_kept(kind, record_id, "sync", notes)
        return updated


def _firsts(theirs: Fields, group: str) -> dict[str, str]:
    """Lexware's first entry of each list of a group: list name -> value."""
    prefix = f"{group}."
    return {k.removeprefix(prefix): v for k, v in theirs.items() if k.startswith(prefix)}
