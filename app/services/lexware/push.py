"""Pushing a company or contact to Lexware: an unlinked record is created as a customer, a
linked one gets what the CRM changed since the last sync.

The update is a three-way merge (app.lexware.fields): each side's fields as last synced
against its fields now. A field only the CRM changed is written, one only Lexware changed
stays, one both changed (differently) is a CONFLICT naming it, and nothing is written. A
record linked before both sides' values were kept has no base: the CRM wins on every field it
holds. A 409 (a change between our read and our write) reads and merges again, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from app.data import records
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, Conflict, LexwareUnavailable
from app.lexware import fields, mapping
from app.lexware.client import LexwareClient, LexwareMaybeDone
from app.lexware.connector import LexwareConnector
from app.lexware.fields import Fields, Synced
from app.services.lexware.contacts import (
    COMPANY_KIND,
    CONTACT_KIND,
    RecordKind,
    RecordT,
    crm_fields,
    linked_record,
    path,
    store_link,
    synced_of,
    wrong_kind,
)
from app.services.lexware.lease import record_lease
from app.services.lexware.rows import LinkedRow

PENDING_CREATE_SECONDS = 24 * 3600  # how long an unconfirmed create is looked for first


async def push(
    connector: LexwareConnector,
    scope: TenantScope,
    kind: RecordKind[RecordT],
    record_id: uuid.UUID,
    *,
    max_wait: float | None = None,
) -> RecordT:
    """Create the Lexware contact (as a customer) for an unlinked record, else update it.
    One Lexware operation on a record at a time, whichever process asks (lexware_lease)."""
    client = await connector.client(scope, max_wait=max_wait)
    async with record_lease(connector.redis, record_id):
        row = await records.get_row(scope, kind.entity, record_id)
        if row.lexware_contact_id is None:
            ours = await crm_fields(scope, kind, row, prefer=None)
            lexware_id, version, synced = await _create(connector, client, scope, kind, row, ours)
            verbs: tuple[str, ...] = ("lexware_linked", "lexware_pushed")
        else:
            lexware_id = row.lexware_contact_id
            base = await synced_of(scope, kind, record_id)
            ours = await crm_fields(scope, kind, row, prefer=None if base is None else base.crm)
            version, synced = await _update(client, kind, row, lexware_id, ours, base)
            verbs = ("lexware_pushed",)
        linked = await store_link(scope, kind, record_id, lexware_id, version, verbs, synced, row)
        await connector.redis.delete(_pending_key(scope, record_id))
        return linked


def _pending_key(scope: TenantScope, record_id: uuid.UUID) -> str:
    return f"lexware:create-pending:{scope.tenant_id}:{record_id}"


Created = tuple[uuid.UUID, int, Synced]


async def _create(
    connector: LexwareConnector,
    client: LexwareClient,
    scope: TenantScope,
    kind: RecordKind[LinkedRow],
    row: LinkedRow,
    ours: Fields,
) -> Created:
    """POST the new contact. A create whose answer was lost (or that crashed before the link
    was stored) is looked up, never simply sent again."""
    body = fields.to_lexware(None, ours, company=kind.lexware_company)
    pending = _pending_key(scope, row.id)
    if await connector.redis.exists(pending):
        found = await _find_created(client, scope, body, ours)
        if found is not None:
            return found
    await connector.redis.set(pending, b"1", ex=PENDING_CREATE_SECONDS)
    try:
        result = await client.post("/v1/contacts", body)
    except LexwareMaybeDone:
        found = await _find_created(client, scope, body, ours)
        if found is not None:
            return found
        raise LexwareUnavailable(
            "Lexware did not confirm the new contact; the next push looks for it first."
        ) from None
    except BadUserInput:
        await connector.redis.delete(pending)  # refused: nothing was created
        raise
    return uuid.UUID(result["id"]), int(result["version"]), Synced(ours, fields.written({}, ours))


async def _find_created(
    client: LexwareClient, scope: TenantScope, body: Mapping[str, Any], ours: Fields
) -> Created | None:
    """Our contact in Lexware: same kind and name, carrying what we sent, linked to nothing."""
    name = mapping.display_name(body)
    if len(name) < 3:
        return None
    page = await client.get("/v1/contacts", {"name": mapping.search_text(name), "size": 250})
    for contact in page.get("content") or []:
        same = mapping.is_company(contact) == mapping.is_company(body)
        if same and mapping.display_name(contact) == name and mapping.same_lists(contact, body):
            found = uuid.UUID(contact["id"])
            taken = [await linked_record(scope, k, found) for k in (COMPANY_KIND, CONTACT_KIND)]
            if not any(taken):
                return found, int(contact["version"]), Synced(ours, fields.of_lexware(contact))
    return None


async def _update(
    client: LexwareClient,
    kind: RecordKind[LinkedRow],
    row: LinkedRow,
    lexware_id: uuid.UUID,  # the record's link (its row has it, typed as optional)
    ours: Fields,
    base: Synced | None,
) -> tuple[int, Synced]:
    """PUT what the merge says, over what Lexware holds now; nothing to write, no PUT.
    The version and both sides' fields it leaves."""
    lexware_path = path(lexware_id)
    for _attempt in range(2):  # a 409 means a change between our GET and our PUT: once more
        current = await client.get(lexware_path)
        if mapping.is_company(current) != kind.lexware_company:  # changed kind in Lexware
            raise wrong_kind(kind, lexware_id, "push")
        theirs = fields.of_lexware(current)
        merged = fields.merge(base, theirs, ours)
        if merged.conflicts:
            raise _both_changed(kind, merged.conflicts)
        if not merged.changes:
            return int(current["version"]), Synced(ours, theirs)
        body = fields.to_lexware(current, merged.changes, company=kind.lexware_company)
        body["version"] = current["version"]
        try:
            result = await client.put(lexware_path, body)
        except Conflict:
            continue
        return int(result["version"]), Synced(ours, fields.written(theirs, merged.changes))
    raise Conflict(
        "The Lexware contact changes faster than it can be pushed; try again.",
        crmVersion=row.version,
    )


def _both_changed(kind: RecordKind[LinkedRow], keys: list[str]) -> Conflict:
    names = ", ".join(dict.fromkeys(fields.crm_name(key) for key in keys))
    sync = f"sync{kind.name.capitalize()}FromLexware"
    message = (
        f"Changed in the CRM and in Lexware since the last sync: {names}. Nothing was written. "
        f"To take Lexware's values, sync the {kind.name} ({sync}; where Lexware holds none the "
        "CRM keeps its own, and a replaced e-mail or phone stays as another one). To keep the "
        "CRM's, sync, set them again in the CRM and push. Setting the CRM's to Lexware's "
        "values also settles it."
    )
    problem = "changed in the CRM and in Lexware since the last sync"
    conflicting = [
        {"field": fields.crm_name(key), "lexwareField": key, "message": problem} for key in keys
    ]
    return Conflict(message, fields=conflicting)
