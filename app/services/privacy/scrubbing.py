"""The person's values out of what the CRM keeps *about* records rather than in them: the
event history's `changes` and the stored responses of idempotent requests.

Events are rewritten in place, never deleted: their ids (the per-tenant `seq`) stay gapless,
so a subscriber resuming from any id still gets every event, now without the values. The
step is a function of sets of entity ids (`EventSubjects`), so an erasure can name more
records than the contact itself (the ids merged into it, the activities erased with it).

Each statement reads or rewrites at most `BATCH` rows: a contact with 100,000 events is
rewritten in 200 round trips of bounded memory, in the erasure's one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col

from app.data.pagination import like_literal
from app.data.unit_of_work import UnitOfWork
from app.services.privacy.rules import (
    MIN_PHONE_DIGITS,
    PersonalValues,
    Scrubber,
    clipped,
    erase_values,
    like_patterns,
)
from models import (
    Company,
    CompanyRelationship,
    Contact,
    ContactEmail,
    ContactPhone,
    Contract,
    CrmEvent,
    Deal,
    IdempotencyKey,
)

BATCH = 500
WINDOW = 50_000  # ids of the history one scanning statement reads


@dataclass(frozen=True)
class EventSubjects:
    """Whose events lose what: `erased` (entity -> ids) lose every value but ids and codes;
    `about` lose the person's values, first and last name alone included; every other event
    of the tenant loses the person's whole values (full name, e-mails, phones)."""

    erased: Mapping[str, Collection[uuid.UUID]] = field(default_factory=dict)
    about: Mapping[str, Collection[uuid.UUID]] = field(default_factory=dict)


@dataclass
class EventCounts:
    erased: int = 0
    scrubbed: int = 0


def chunks(ids: Collection[uuid.UUID], size: int = BATCH) -> Iterator[list[uuid.UUID]]:
    listed = sorted(ids)
    for start in range(0, len(listed), size):
        yield listed[start : start + size]


def json_rows(*columns: tuple[str, Any]) -> Any:
    """`jsonb_to_recordset(:rows)`: a batch of rows sent as one JSON parameter, for an
    UPDATE ... FROM that rewrites many rows in one statement."""
    return (
        sa.func.jsonb_to_recordset(sa.bindparam("rows", type_=JSONB))
        .table_valued(*(sa.column(name, type_) for name, type_ in columns))
        .render_derived(with_types=True)
    )


_EVENT_ROWS = json_rows(("seq", sa.BigInteger()), ("changes", JSONB()))
_REWRITE_EVENTS = (
    sa.update(CrmEvent)
    .where(col(CrmEvent.seq) == _EVENT_ROWS.c.seq)
    .values(changes=_EVENT_ROWS.c.changes)
)


async def _rewrite_events(
    uow: UnitOfWork,
    condition: sa.ColumnElement[bool],
    rewrite: Callable[[Any], Any],
    *,
    scan: bool = False,
) -> int:
    """Every event matching `condition`, its `changes` rewritten (a batch at a time, in seq
    order): how many changed. `scan`: the condition is a filter, not an index condition, so
    each statement reads at most `WINDOW` ids of the tenant's history (the primary key's
    range), however few match: no statement runs into the statement timeout on a tenant
    with millions of events."""
    seq, changed, last = col(CrmEvent.seq), 0, 0
    top = await _latest_seq(uow) if scan else None
    while True:
        statement = sa.select(seq, col(CrmEvent.changes)).where(condition, seq > last)
        if top is not None:
            statement = statement.where(seq <= last + WINDOW)
        rows = list(await uow.execute_rows(statement.order_by(seq).limit(BATCH)))
        updates = []
        for row in rows:
            new = rewrite(row.changes)
            if new != row.changes:
                updates.append({"seq": row.seq, "changes": new})
        if updates:
            await uow.execute_rows(_REWRITE_EVENTS, {"rows": updates})
            changed += len(updates)
        if len(rows) == BATCH:
            last = rows[-1].seq
        elif top is None or last + WINDOW >= top:
            return changed
        else:
            last += WINDOW


async def _latest_seq(uow: UnitOfWork) -> int:
    statement = sa.select(sa.func.coalesce(sa.func.max(col(CrmEvent.seq)), 0))
    return int((await uow.execute_rows(statement)).scalar_one())


def _of(entity: str, ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    return sa.and_(col(CrmEvent.entity) == entity, col(CrmEvent.entity_id).in_(ids))


def holding(column: Any, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """A JSON column whose text holds one of the values (ILIKE: a filter over the tenant's
    rows, never an index condition; an erasure reads the tenant's history once)."""
    text = sa.cast(column, sa.Text)
    return sa.or_(*(text.ilike(pattern) for pattern in like_patterns(values)))


async def scrub_events(
    uow: UnitOfWork, subjects: EventSubjects, values: PersonalValues
) -> EventCounts:
    counts = EventCounts()
    for entity, ids in subjects.erased.items():
        for part in chunks(ids):
            counts.erased += await _rewrite_events(uow, _of(entity, part), erase_values)
    about = Scrubber(values.all)
    for entity, ids in subjects.about.items():
        for part in chunks(ids):
            counts.scrubbed += await _rewrite_events(uow, _of(entity, part), about.json)
    if values.whole:
        anywhere = Scrubber(values.whole)
        condition = holding(col(CrmEvent.changes), values.whole)
        counts.scrubbed += await _rewrite_events(uow, condition, anywhere.json, scan=True)
    return counts


async def scrub_stored_responses(
    uow: UnitOfWork, contact_id: uuid.UUID, values: PersonalValues
) -> int:
    """Stored responses (app/services/idempotency) that mention the person (its id or a
    whole value), rewritten without its values: a retry of that request is answered with
    the scrubbed response. How many."""
    body = col(IdempotencyKey.response_body)
    text = sa.func.convert_from(body, "UTF8")
    mentions = [str(contact_id), *values.whole]
    condition = sa.or_(*(text.ilike(p) for p in like_patterns(mentions)))
    statement = sa.select(col(IdempotencyKey.user_id), col(IdempotencyKey.key), body).where(
        col(IdempotencyKey.state) == "done", condition
    )
    scrubber = Scrubber(values.all).json_text()
    rewrite = (
        sa.update(IdempotencyKey)
        .where(
            col(IdempotencyKey.user_id) == sa.bindparam("holder", type_=sa.Uuid()),
            col(IdempotencyKey.key) == sa.bindparam("key_", type_=sa.Text()),
        )
        .values(response_body=sa.bindparam("body", type_=sa.LargeBinary()))
    )
    count = 0
    for row in list(await uow.execute_rows(statement)):
        new = scrubber.text(bytes(row.response_body).decode("utf-8")).encode("utf-8")
        if new != bytes(row.response_body):
            await uow.execute_rows(rewrite, {"holder": row.user_id, "key_": row.key, "body": new})
            count += 1
    return count


# Free texts of other records where a user may have written the person down (a company's
# notes: "Ansprechpartnerin anna@x.de"): scrubbed of its whole values. Names of records
# (a company's name) are the record's own and stay.
FREE_TEXTS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (Deal, ("title", "lost_reason_text")),
    (Company, ("notes",)),
    (Contact, ("notes",)),
    (Contract, ("title", "notes")),
    (CompanyRelationship, ("notes",)),
)


async def scrub_mentions(
    uow: UnitOfWork, values: PersonalValues, skip: uuid.UUID
) -> dict[str, list[uuid.UUID]]:
    """The free texts of the tenant's other records (not `skip`, the person) that hold the
    person's whole values, scrubbed (a new version): their ids by table."""
    if not values.whole:
        return {}
    scrubber, found = Scrubber(values.whole), {}
    for model, names in FREE_TEXTS:
        columns = [col(getattr(model, name)) for name in names]
        mentioning = sa.or_(
            *(c.ilike(f"%{like_literal(v)}%") for c in columns for v in values.whole)
        )
        statement = (
            sa.select(col(model.id), *columns)
            .where(mentioning, col(model.id) != skip)
            .with_for_update()
        )
        changed = []
        for row in list(await uow.execute_rows(statement, with_trashed=True)):
            texts = {
                f"new_{name}": _fitted(scrubber.optional(getattr(row, name)), column)
                for name, column in zip(names, columns, strict=True)
            }
            await uow.execute_rows(
                _rewrite_texts(model, names), {"row_id": row.id, **texts}, with_trashed=True
            )
            changed.append(row.id)
        if changed:
            found[model.__tablename__] = changed
    return found


def _fitted(text: str | None, column: Any) -> str | None:
    length = getattr(column.type, "length", None)
    return None if text is None else (clipped(text, length) if length else text)


def _rewrite_texts(model: Any, names: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in names}
    if "version" in model.model_fields:
        values["version"] = col(model.version) + 1
    return (
        sa.update(model)
        .where(col(model.id) == sa.bindparam("row_id", type_=sa.Uuid()))
        .values(**values)
    )


async def drop_company_values(uow: UnitOfWork, values: PersonalValues) -> list[uuid.UUID]:
    """A company's e-mail address or phone number that is exactly one of the person's (her
    address stored on her company too) is hers: deleted, without an event (one would carry
    the value into the history this erasure scrubs). The companies, once each."""
    emails = sorted({v.lower() for v in values.whole if "@" in v})
    digits = sorted({"".join(c for c in v if c.isdigit()) for v in values.whole if "@" not in v})
    digits = [d for d in digits if len(d) >= MIN_PHONE_DIGITS]
    found: list[uuid.UUID] = []
    statements = []
    if emails:
        email = sa.func.lower(col(ContactEmail.email))
        statements.append(
            sa.delete(ContactEmail)
            .where(col(ContactEmail.company_id).isnot(None), email.in_(emails))
            .returning(col(ContactEmail.company_id))
        )
    if digits:
        number = sa.func.regexp_replace(col(ContactPhone.phone), r"\D", "", "g")
        statements.append(
            sa.delete(ContactPhone)
            .where(col(ContactPhone.company_id).isnot(None), number.in_(digits))
            .returning(col(ContactPhone.company_id))
        )
    for statement in statements:
        for (company_id,) in await uow.execute_rows(statement, with_trashed=True):
            if company_id is not None and company_id not in found:
                found.append(company_id)
    return found
