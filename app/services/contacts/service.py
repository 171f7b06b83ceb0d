"""Contacts: create, update and delete, each with its e-mail and phone lists and owners in one
unit of work (reads: queries.py; what a valid contact is: rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data import records, trash
from app.data.tenancy import TenantScope
from app.services.common.validation import validate, validate_patch
from app.services.contact_info.rules import EMAILS, PHONES, split_values
from app.services.contact_info.service import create_with_values, update_with_values
from app.services.contacts.rows import ContactRow
from app.services.contacts.rules import CONTACT, NOT_NULLABLE, ContactInput, ContactPatch
from app.services.duplicates.rules import DuplicateKind
from app.services.duplicates.service import guarded
from app.services.owners.rules import CONTACT_OWNERS, split_owners
from app.services.owners.service import new_record_owners


async def create_contact(
    scope: TenantScope, data: Mapping[str, Any], system: records.SystemChange | None = None
) -> ContactRow:
    """`system`: values the system adds (a Lexware link), with their events. Its owners:
    those named in `owners`, else its creator (owners.initial_owners)."""
    data, system = guarded(scope, DuplicateKind.CONTACT, data, system)
    given, named = split_owners(data)
    own, lists = split_values(given)
    values = validate(ContactInput, own).model_dump()
    values.update(system.values if system else {})
    statement = records.insert_statement(scope, CONTACT, values)
    owners = new_record_owners(scope, CONTACT_OWNERS, named)
    return await create_with_values(
        scope, CONTACT, statement, "contact_id", lists, system, then=owners, links=values
    )


async def update_contact(
    scope: TenantScope,
    contact_id: uuid.UUID,
    data: Mapping[str, Any],
    expected_version: int | None = None,
    system: records.SystemChange | None = None,
) -> ContactRow:
    """Change the fields sent; `emails`/`phones`, when sent, replace the whole lists."""
    data, system = guarded(scope, DuplicateKind.CONTACT, data, system)
    own, lists = split_values(data)
    values = validate_patch(ContactPatch, NOT_NULLABLE, own)
    return await update_with_values(
        scope, CONTACT, "contact_id", contact_id, values, lists, expected_version, system
    )


async def delete_contact(scope: TenantScope, contact_id: uuid.UUID) -> uuid.UUID:
    """Moves it to the trash (app.services.trash: restore, purge); links stay as they are."""
    return await trash.trash_row(scope, CONTACT, contact_id)


__all__ = ["CONTACT", "EMAILS", "PHONES"]
