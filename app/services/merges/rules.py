"""What a merge is (declarations and pure rules, no I/O): which records may be merged, which of
their fields a caller chooses between, what points at them and follows the survivor, and how
the values of several records become one (a field's value, tags, e-mails and phones, owners,
relationships, the Lexware link; the plans for the lists: plans.py). The writes are in
service.py and moves.py.

Rules:
- a field's value: the record the caller names (`fields`), else the survivor's when it has
  one, else the first merged record's (in the order given) that has one;
- tags: the survivor's, then each merged record's, one per tag key (the first spelling stays);
- e-mails and phones: the survivor's, then the merged records' not yet there (an e-mail
  compared ignoring case, a phone by its E.164 form where it has one, else by its digits);
  the survivor's primary stays primary (without one, the first value that was primary on its
  record becomes it);
- owners: every user who owns any of them, with the strongest role they hold (OWNER > MEMBER
  > WATCHER);
- relationships: re-pointed at the survivor; one that would relate the survivor to itself or
  repeat a pair and type it already has is dropped;
- the Lexware link: at most one distinct Lexware contact among them, or the caller names the
  record whose link the survivor keeps (`lexwareFrom`); the other Lexware contacts stay in
  Lexware Office, unlinked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.data.records import Entity
from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.services.companies.rules import COMPANY
from app.services.contact_info.rules import EMAILS, PHONES
from app.services.contacts.rules import CONTACT
from app.services.owners.rules import COMPANY_OWNERS, CONTACT_OWNERS, OwnerKind
from models import (
    Activity,
    Contact,
    Contract,
    Deal,
    LexwareVoucher,
    OwnerRole,
)
from models.tags import tag_key

MAX_MERGED = 20  # records merged into one survivor at once
MAX_TAGS = 50  # a record's tags (app.services.common.validation.Tags)
LEXWARE_LINK = ("lexware_contact_id", "lexware_contact_version", "lexware_synced_at")
LEXWARE_BASE = "lexware_synced_values"  # read apart (models.base.READ_APART), moves with it
# Strongest first: the role an owner keeps when several records name them.
ROLE_STRENGTH = (OwnerRole.OWNER, OwnerRole.MEMBER, OwnerRole.WATCHER)


@dataclass(frozen=True)
class Pointer:
    """Rows of another table whose `column` names a merged record: they follow the survivor.
    `name`: the relation as the answer and the event call it."""

    name: str
    model: Any
    column: str


@dataclass(frozen=True)
class MergeKind:
    """Companies or contacts: the table, the fields a caller chooses between, what follows
    the survivor, and where its e-mails, phones and owners are."""

    entity: Entity[Any]
    name: str  # "company" / "contact": the event's entity, the tombstone's kind
    fields: tuple[str, ...]
    pointers: tuple[Pointer, ...]
    owners: OwnerKind
    value_column: str  # the owner column of its e-mails and phones
    plural: str  # in messages
    relationships: bool = False

    def event_type(self) -> str:
        return f"crm.{self.name}.merged"


COMPANY_MERGE = MergeKind(
    COMPANY,
    "company",
    (
        "name",
        "website",
        "industry_id",
        "account_type_id",
        "status",
        "vat_id",
        "tax_id",
        "trade_register_number",
        "register_court",
        "company_size",
        "billing_address",
        "delivery_address",
        "data_enriched_at",
        "data_enrichment_source",
        "notes",
    ),
    (
        # Deals first: they are locked before the records, the order of a company's delete
        # and of lexware.deal_parties (a deal, then its company, then its contact).
        Pointer("deals", Deal, "company_id"),
        Pointer("contacts", Contact, "company_id"),
        Pointer("activities", Activity, "company_id"),
        Pointer("contracts", Contract, "company_id"),
        Pointer("lexwareVouchers", LexwareVoucher, "company_id"),
    ),
    COMPANY_OWNERS,
    "company_id",
    "companies",
    relationships=True,
)
CONTACT_MERGE = MergeKind(
    CONTACT,
    "contact",
    (
        "salutation",
        "title",
        "first_name",
        "last_name",
        "position",
        "department",
        "company_id",
        "status",
        "linkedin_url",
        "birthday",
        "source",
        "notes",
    ),
    (
        Pointer("deals", Deal, "contact_id"),
        Pointer("activities", Activity, "contact_id"),
        Pointer("lexwareVouchers", LexwareVoucher, "contact_id"),
    ),
    CONTACT_OWNERS,
    "contact_id",
    "contacts",
)


@dataclass(frozen=True)
class MergeRequest:
    survivor_id: uuid.UUID
    merged_ids: tuple[uuid.UUID, ...]
    expected_version: int
    fields: tuple[tuple[str, uuid.UUID], ...] = ()  # (column, the record whose value wins)
    lexware_from: uuid.UUID | None = None
    dry_run: bool = False

    @property
    def ids(self) -> tuple[uuid.UUID, ...]:
        """Every record of the merge, the survivor first, then the merged ones in order."""
        return (self.survivor_id, *self.merged_ids)


def check_request(kind: MergeKind, request: MergeRequest) -> None:
    """BAD_USER_INPUT for what is wrong with the request itself, before anything is read."""
    problems: list[FieldProblem] = []
    merged = request.merged_ids
    if not 1 <= len(merged) <= MAX_MERGED:
        problems.append(FieldProblem("mergedIds", f"must list 1 to {MAX_MERGED} ids"))
    if len(set(merged)) != len(merged):
        problems.append(FieldProblem("mergedIds", "lists an id twice"))
    if request.survivor_id in merged:
        problems.append(FieldProblem("mergedIds", "must not list the survivor"))
    part = set(request.ids)
    chosen = [name for name, _ in request.fields]
    for index, (name, from_id) in enumerate(request.fields):
        if name not in kind.fields:
            problems.append(FieldProblem(f"fields[{index}].field", "cannot be chosen"))
        if chosen.count(name) > 1:
            problems.append(FieldProblem(f"fields[{index}].field", "is chosen twice"))
        if from_id not in part:
            problems.append(FieldProblem(f"fields[{index}].fromId", _NOT_PART % from_id))
    if request.lexware_from is not None and request.lexware_from not in part:
        problems.append(FieldProblem("lexwareFrom", _NOT_PART % request.lexware_from))
    if problems:
        raise BadUserInput(problems)


_NOT_PART = "%s is neither the survivor nor a merged record"


def not_found(kind: MergeKind, record_id: uuid.UUID) -> NotFound:
    """NOT_FOUND naming the id (missing, another tenant's, merged away or trashed: the same)."""
    label = kind.entity.label
    error = NotFound(f"{label} {record_id}")
    error.details["id"] = str(record_id)
    return error


def empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def merged_values(
    kind: MergeKind, request: MergeRequest, rows: Mapping[uuid.UUID, Any]
) -> dict[str, Any]:
    """Each field's value for the survivor (the caller's choice, else the survivor's, else the
    first merged record's that has one) and the united tags: only what differs from now."""
    chosen = dict(request.fields)
    survivor = rows[request.survivor_id]
    values: dict[str, Any] = {}
    for name in kind.fields:
        if name in chosen:
            value = getattr(rows[chosen[name]], name)
        else:
            candidates = (getattr(rows[i], name) for i in request.ids)
            value = next((v for v in candidates if not empty(v)), getattr(survivor, name))
        if value != getattr(survivor, name):
            values[name] = value
    tags = united_tags(rows[i].tags for i in request.ids)
    if len(tags) > MAX_TAGS:
        raise Conflict(
            f"Merged, the record would have {len(tags)} tags; it can hold at most {MAX_TAGS}. "
            "Remove some from the records first.",
            field="tags",
        )
    if tags != list(survivor.tags):
        values["tags"] = tags
    return values


def united_tags(lists: Iterable[Sequence[str]]) -> list[str]:
    united: dict[str, str] = {}
    for tags in lists:
        for tag in tags:
            united.setdefault(tag_key(tag), tag)
    return list(united.values())


def lexware_source(
    kind: MergeKind, request: MergeRequest, rows: Mapping[uuid.UUID, Any]
) -> uuid.UUID:
    """The record whose Lexware link the survivor keeps: the caller's choice, else the one
    record with a link (the survivor when none or only it has one). Two different Lexware
    contacts without a choice: CONFLICT naming them."""
    if request.lexware_from is not None:
        return request.lexware_from
    linked = {i: rows[i].lexware_contact_id for i in request.ids if rows[i].lexware_contact_id}
    distinct = set(linked.values())
    if len(distinct) > 1:
        named = ", ".join(
            f"{record} (Lexware contact {lexware})" for record, lexware in linked.items()
        )
        raise Conflict(
            f"The {kind.plural} are linked to different Lexware contacts: {named}. Choose the "
            "record whose link the survivor keeps (lexwareFrom); the other Lexware contacts "
            "stay in Lexware Office, unlinked.",
            links=[{"id": str(r), "lexwareContactId": str(x)} for r, x in linked.items()],
        )
    survivor_link = rows[request.survivor_id].lexware_contact_id
    if survivor_link is not None or not linked:
        return request.survivor_id
    return next(iter(linked))


VALUE_KINDS = ((EMAILS, "emails"), (PHONES, "phones"))


@dataclass
class Moved:
    """What one relation did: the ids re-pointed at the survivor, the ids dropped (duplicates,
    self-relations)."""

    relation: str
    moved: list[uuid.UUID] = field(default_factory=list)
    dropped: list[uuid.UUID] = field(default_factory=list)

    def event(self) -> dict[str, list[str]]:
        return {"moved": [str(i) for i in self.moved], "dropped": [str(i) for i in self.dropped]}


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did (or, in a dry run, would do)."""

    survivor: Any  # the survivor's row after the merge
    merged: tuple[Any, ...]  # the merged records' rows as they were, in the order given
    changed: dict[str, Any]  # the survivor's changed fields: camelCase -> [old, new]
    moved: tuple[Moved, ...]
    lexware_unlinked: tuple[uuid.UUID, ...]  # Lexware contacts left unlinked in Lexware
    dry_run: bool

    def event(self) -> dict[str, Any]:
        return {
            "mergedIds": [str(row.id) for row in self.merged],
            "fields": self.changed,
            "moved": {m.relation: m.event() for m in self.moved},
            "lexwareUnlinked": [str(i) for i in self.lexware_unlinked],
        }
