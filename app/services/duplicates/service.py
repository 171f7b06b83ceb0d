"""Duplicate checks a write makes: `rejectDuplicates` refuses a create or update whose record
has a STRONG duplicate (a CONFLICT naming the existing records and the rules), inside the
write's own unit of work, so that nothing is written.

Two concurrent writes of one VAT id (or e-mail, or Lexware contact) must not both pass: each
takes a transaction-scoped advisory lock on its strong keys (tenant and key hashed) before it
looks, so the second waits for the first to commit and then sees its record (READ COMMITTED:
each statement reads what was committed before it began).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import col

from app.data import records
from app.data.records import Entity
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.errors import Conflict
from app.services.duplicates.queries import candidates, keys_of
from app.services.duplicates.rules import Candidate, DuplicateKind, Strength
from models import Company, Contact

MAX_NAMED = 5  # existing records a CONFLICT names
REJECT = "reject_duplicates"  # the create and update inputs' flag


@dataclass(frozen=True)
class RejectDuplicates(records.SystemChange):
    """A write's check, run in its unit of work once the record and its value lists are
    written (records.SystemChange.complete): a STRONG duplicate is a CONFLICT, and the write
    rolls back. Wraps the system change the write had, if any."""

    values: Mapping[str, Any] = field(default_factory=dict)
    scope: TenantScope | None = None
    kind: DuplicateKind = DuplicateKind.COMPANY
    inner: records.SystemChange | None = None

    async def complete(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        if self.inner is not None:
            await self.inner.complete(uow, entity, row)
        assert self.scope is not None
        await reject_strong(uow, self.scope, self.kind, row.id)

    def record(self, uow: UnitOfWork, entity: Entity[object], row: Row[Any]) -> None:
        if self.inner is not None:
            self.inner.record(uow, entity, row)


def guarded(
    scope: TenantScope,
    kind: DuplicateKind,
    data: Mapping[str, Any],
    system: records.SystemChange | None,
) -> tuple[dict[str, Any], records.SystemChange | None]:
    """The input without its `rejectDuplicates` flag, and the write's system change with the
    check added when the flag is set."""
    given = dict(data)
    if not given.pop(REJECT, False) or not given:  # nothing sent to write: nothing to check
        return given, system
    values = system.values if system is not None else {}
    verbs = system.verbs if system is not None else ()
    return given, RejectDuplicates(values, verbs, scope=scope, kind=kind, inner=system)


async def lock_keys(uow: UnitOfWork, scope: TenantScope, keys: list[str]) -> None:
    """Transaction-scoped advisory locks on the keys, in one order (no deadlock between two
    writers of the same keys)."""
    if not keys:
        return
    hashed = sorted({f"{scope.tenant_id}:{key}" for key in keys})
    await uow.execute(
        sa.text(
            "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) "
            "FROM (SELECT unnest(CAST(:keys AS text[])) AS key ORDER BY 1) AS ordered"
        ),
        {"keys": hashed},
    )


async def reject_strong(
    uow: UnitOfWork, scope: TenantScope, kind: DuplicateKind, record_id: uuid.UUID
) -> None:
    """CONFLICT if the record as written in `uow` has a STRONG duplicate (it rolls back)."""
    keys = await keys_of(uow, kind, record_id)
    await lock_keys(uow, scope, keys.strong_keys())
    strong = [c for c in await candidates(uow, keys, MAX_NAMED) if c.strength is Strength.STRONG]
    if not strong:
        return
    # Read through the tenant filter: a record it hides (trashed) is no duplicate to refuse for.
    names = await _names(uow, kind, [c.record_id for c in strong])
    strong = [c for c in strong if c.record_id in names]
    if strong:
        raise _conflict(kind, strong, names)


def _conflict(
    kind: DuplicateKind, strong: list[Candidate], names: dict[uuid.UUID, str]
) -> Conflict:
    duplicates: list[dict[str, Any]] = [
        {
            "id": str(c.record_id),
            "name": names.get(c.record_id, ""),
            "score": c.score,
            "rules": [m.rule.value for m in c.matches],
        }
        for c in strong
    ]
    described = "; ".join(f"{d['name']} ({d['id']}: {', '.join(d['rules'])})" for d in duplicates)
    label = "company" if kind is DuplicateKind.COMPANY else "contact"
    return Conflict(
        f"This {label} duplicates an existing {label}: {described}. Nothing was saved; "
        "send rejectDuplicates: false to save it anyway.",
        duplicates=duplicates,
    )


async def _names(
    uow: UnitOfWork, kind: DuplicateKind, ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if kind is DuplicateKind.COMPANY:
        statement: Any = sa.select(col(Company.id), col(Company.name).label("name"))
        statement = statement.where(col(Company.id).in_(ids))
    else:
        full = sa.func.concat_ws(" ", col(Contact.first_name), col(Contact.last_name))
        statement = sa.select(col(Contact.id), full.label("name")).where(col(Contact.id).in_(ids))
    return {row.id: row.name for row in await uow.execute_rows(statement)}
