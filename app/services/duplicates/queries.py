"""The duplicate checks' reads: a record's keys, its candidates, and the tenant-wide report.

Everything reads `duplicate_key` (models/duplicates.py): each rule's branch of the view
carries the tenant of the transaction and exposes the indexed expression as `key`, so the
conditions below are index conditions in their branches (docs/ARCHITECTURE.md, section 14):
exact rules by btree equality, the similar name by the trigram GIN index (`%`, with
pg_trgm's threshold set for the transaction to SIMILAR_NAME_FROM).

A candidate check is two statements (one more with a Lexware link): the keys of the record
(none for a draft: its keys come from the input), then every record sharing an exact key
(at most MAX_EXACT rows) and the MAX_SIMILAR most similar names, scored in Python.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading
from app.errors import NotFound
from app.services.duplicates.rules import (
    SIMILAR_NAME_FROM,
    Candidate,
    DuplicateKind,
    DuplicateRule,
    Keys,
    RuleMatch,
    ranked,
)
from models import Company, Contact, ContactEmail, ContactPhone, DuplicateKey

KIND: Any = col(DuplicateKey.kind)
RULE: Any = col(DuplicateKey.rule)
RECORD: Any = col(DuplicateKey.record_id)
VALUE: Any = col(DuplicateKey.value)
KEY: Any = col(DuplicateKey.key)
MAX_EXACT = 1000  # rows sharing an exact key with one record (a switchboard's thousand)
MAX_SIMILAR = 50
_MODELS: dict[DuplicateKind, Any] = {DuplicateKind.COMPANY: Company, DuplicateKind.CONTACT: Contact}
_LABELS = {DuplicateKind.COMPANY: "Company", DuplicateKind.CONTACT: "Contact"}


def named(name: str) -> Any:
    """One of our own kind or rule names, written into the SQL so that the planner drops the
    view's other branches (as search's `named`). Never a client's text."""
    return sa.literal_column("'" + name.replace("'", "''") + "'", sa.Text())


def _text(value: str) -> Any:
    return sa.literal(value, sa.Text())


def _record_statement(kind: DuplicateKind, record_id: uuid.UUID) -> Any:
    """The record's keys in one statement from its own rows (as the view computes them; its
    branches cost more to plan than to read): key columns, e-mails, phones."""
    email_owner = col(
        ContactEmail.company_id if kind is DuplicateKind.COMPANY else ContactEmail.contact_id
    )
    phone_owner = col(
        ContactPhone.company_id if kind is DuplicateKind.COMPANY else ContactPhone.contact_id
    )
    model = _MODELS[kind]
    lists = [
        sa.select(sa.func.array_agg(col(ContactEmail.email))).where(email_owner == col(model.id)),
        sa.select(sa.func.array_agg(sa.func.lower(col(ContactEmail.email)))).where(
            email_owner == col(model.id)
        ),
        sa.select(sa.func.array_agg(col(ContactPhone.phone))).where(
            phone_owner == col(model.id), col(ContactPhone.e164).isnot(None)
        ),
        sa.select(sa.func.array_agg(col(ContactPhone.e164))).where(
            phone_owner == col(model.id), col(ContactPhone.e164).isnot(None)
        ),
    ]
    names = ["emails", "email_keys", "phones", "phone_keys"]
    listed = [q.scalar_subquery().label(n) for q, n in zip(lists, names, strict=True)]
    if kind is DuplicateKind.COMPANY:
        own = [
            col(Company.name),
            col(Company.dedupe_name).label("name_key"),
            col(Company.vat_id),
            col(Company.website),
            sa.func.crm_domain(col(Company.website)).label("domain"),
            col(Company.billing_address).op("->>")(sa.literal_column("'zip'")).label("zip"),
        ]
    else:
        own = [
            sa.func.crm_person(col(Contact.first_name), col(Contact.last_name)).label("name"),
            col(Contact.search_name).label("name_key"),
            col(Contact.company_id),
        ]
    return sa.select(col(model.id), col(model.lexware_contact_id), *own, *listed).where(
        col(model.id) == record_id
    )


async def keys_of(reads: Reading, kind: DuplicateKind, record_id: uuid.UUID) -> Keys:
    """A saved record's keys, as the view's `key` expressions compute them (NOT_FOUND if the
    tenant has no such record)."""
    row = (await reads.execute_rows(_record_statement(kind, record_id))).first()
    if row is None:
        raise NotFound(_LABELS[kind])
    exact: dict[DuplicateRule, dict[str, str]] = {}

    def add(rule: DuplicateRule, key: str | None, value: str | None) -> None:
        if key and value is not None:
            exact.setdefault(rule, {})[key] = value

    for key, value in zip(row.email_keys or (), row.emails or (), strict=True):
        add(DuplicateRule.EMAIL, key, value)
    for key, value in zip(row.phone_keys or (), row.phones or (), strict=True):
        add(DuplicateRule.PHONE, key, value)
    if kind is DuplicateKind.COMPANY:
        add(DuplicateRule.VAT_ID, row.vat_id, row.vat_id)
        add(DuplicateRule.WEBSITE_DOMAIN, row.domain, row.website)
        if row.name_key is not None and row.zip is not None:
            postcode = f"{row.name_key} {row.zip}"
            add(DuplicateRule.NAME_AND_POSTCODE, postcode, f"{row.name}, {row.zip}")
    elif row.name_key is not None and row.company_id is not None:
        add(DuplicateRule.NAME_AND_COMPANY, f"{row.name_key} {row.company_id}", row.name)
    return Keys(
        kind,
        exact,
        name=row.name_key or None,
        name_shown=row.name,
        lexware_contact_id=row.lexware_contact_id,
        exclude=record_id,
        name_is_key=True,
    )


def _name_key(keys: Keys) -> Any:
    """The name compared by similarity: a record's stored key, or a draft's folded in SQL by
    the function its records' keys were folded with."""
    assert keys.name is not None
    if keys.name_is_key:
        return _text(keys.name)
    if keys.kind is DuplicateKind.COMPANY:
        return sa.func.crm_name_key(_text(keys.name))
    return sa.func.crm_fold(_text(keys.name))


def _exact_conditions(keys: Keys) -> list[Any]:
    conditions = [
        sa.and_(named(rule.value) == RULE, KEY.in_(list(values)))
        for rule, values in keys.exact.items()
        if values
    ]
    space = _text(" ")
    for rule, raw in keys.raw.items():
        if rule is DuplicateRule.WEBSITE_DOMAIN:
            key = sa.func.crm_domain(_text(raw))
        elif keys.name is None:
            continue
        else:  # NAME_AND_POSTCODE, NAME_AND_COMPANY: the name key, a space, the other part
            key = _name_key(keys).op("||")(space).op("||")(_text(raw))
        conditions.append(sa.and_(named(rule.value) == RULE, key == KEY))
    return conditions


def candidates_statement(keys: Keys) -> Any | None:
    kind = named(keys.kind.value)
    others = [] if keys.exclude is None else [keys.exclude != RECORD]
    selects = []
    exact = _exact_conditions(keys)
    nothing = sa.cast(sa.null(), sa.Float()).label("similarity")
    if exact:
        selects.append(
            sa.select(RECORD, RULE, VALUE, KEY, nothing)
            .where(kind == KIND, sa.or_(*exact), *others)
            .limit(MAX_EXACT)
        )
    if keys.name is not None:
        name = _name_key(keys)
        similarity = sa.func.similarity(KEY, name)
        selects.append(
            sa.select(RECORD, RULE, VALUE, KEY, sa.cast(similarity, sa.Float()).label("similarity"))
            .where(
                kind == KIND,
                named(DuplicateRule.SIMILAR_NAME.value) == RULE,
                KEY.op("%")(name),
                *others,
            )
            .order_by(similarity.desc(), RECORD)
            .limit(MAX_SIMILAR)
        )
    if not selects:
        return None
    if len(selects) == 1:
        return selects[0]
    both = sa.union_all(*(s.subquery().select() for s in selects)).subquery("found")
    return sa.select(*both.c)


def _shown(keys: Keys, rule: DuplicateRule, key: str) -> str | None:
    """This record's value a candidate's matched (the draft's as typed)."""
    if rule is DuplicateRule.SIMILAR_NAME:
        return keys.name_shown
    if rule in keys.exact:
        return keys.exact[rule].get(key)
    raw = keys.raw.get(rule)
    if rule is DuplicateRule.NAME_AND_POSTCODE:
        return f"{keys.name_shown}, {raw}"
    if rule is DuplicateRule.NAME_AND_COMPANY:
        return keys.name_shown
    return raw


async def candidates(reads: Reading, keys: Keys, first: int) -> list[Candidate]:
    """The `first` strongest candidates of a record or draft (never itself)."""
    found: dict[uuid.UUID, list[RuleMatch]] = {}
    statement = candidates_statement(keys)
    if statement is not None:
        if keys.name is not None:  # `%` compares with this threshold (for the transaction)
            threshold = "SELECT set_config('pg_trgm.similarity_threshold', :value, true)"
            await reads.execute(sa.text(threshold), {"value": str(SIMILAR_NAME_FROM)})
        for row in await reads.execute_rows(statement):
            rule = DuplicateRule(row.rule)
            similarity = None if row.similarity is None else round(row.similarity, 4)
            match = RuleMatch(rule, _shown(keys, rule, row.key), row.value, similarity)
            found.setdefault(row.record_id, []).append(match)
    if keys.lexware_contact_id is not None:
        model = _MODELS[keys.kind]
        linked = sa.select(col(model.id)).where(
            col(model.lexware_contact_id) == keys.lexware_contact_id,
            *([] if keys.exclude is None else [col(model.id) != keys.exclude]),
        )
        shown = str(keys.lexware_contact_id)
        for row in await reads.execute_rows(linked):
            match = RuleMatch(DuplicateRule.LEXWARE_CONTACT, shown, shown)
            found.setdefault(row.id, []).append(match)
    return ranked(keys.kind, found)[:first]


# ---- entry points ----------------------------------------------------------------------------

MAX_CANDIDATES = 50


async def candidates_of_record(
    scope: TenantScope, kind: DuplicateKind, record_id: uuid.UUID, first: int
) -> list[Candidate]:
    """A saved record's candidates, in one read transaction (NOT_FOUND if it is not there)."""
    async with scope.reading() as reads:
        return await candidates(reads, await keys_of(reads, kind, record_id), first)


async def candidates_of_draft(scope: TenantScope, keys: Keys, first: int) -> list[Candidate]:
    async with scope.reading() as reads:
        return await candidates(reads, keys, first)
