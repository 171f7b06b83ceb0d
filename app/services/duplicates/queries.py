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

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading
from app.errors import BadUserInput, NotFound
from app.services.duplicates.rules import (
    MAX_GROUP,
    SIMILAR_NAME_FROM,
    Candidate,
    DuplicateKind,
    DuplicateRule,
    Keys,
    RuleMatch,
    combined,
    ranked,
)
from models import Company, Contact, DuplicateKey

_KIND: Any = col(DuplicateKey.kind)
_RULE: Any = col(DuplicateKey.rule)
_RECORD: Any = col(DuplicateKey.record_id)
_VALUE: Any = col(DuplicateKey.value)
_KEY: Any = col(DuplicateKey.key)
MAX_EXACT = 1000  # rows sharing an exact key with one record (a switchboard's thousand)
MAX_SIMILAR = 50
_MODELS: dict[DuplicateKind, Any] = {DuplicateKind.COMPANY: Company, DuplicateKind.CONTACT: Contact}
_LABELS = {DuplicateKind.COMPANY: "Company", DuplicateKind.CONTACT: "Contact"}
# The rules the report groups by equal keys (a similar name: an equal name key there).
REPORT_RULES = {
    DuplicateKind.COMPANY: (
        DuplicateRule.VAT_ID,
        DuplicateRule.EMAIL,
        DuplicateRule.PHONE,
        DuplicateRule.WEBSITE_DOMAIN,
        DuplicateRule.NAME_AND_POSTCODE,
        DuplicateRule.SIMILAR_NAME,
    ),
    DuplicateKind.CONTACT: (
        DuplicateRule.EMAIL,
        DuplicateRule.PHONE,
        DuplicateRule.NAME_AND_COMPANY,
        DuplicateRule.SIMILAR_NAME,
    ),
}


def _named(name: str) -> Any:
    """One of our own kind or rule names, written into the SQL so that the planner drops the
    view's other branches (as search's `_named`). Never a client's text."""
    return sa.literal_column("'" + name.replace("'", "''") + "'", sa.Text())


def _text(value: str) -> Any:
    return sa.literal(value, sa.Text())


async def keys_of(reads: Reading, kind: DuplicateKind, record_id: uuid.UUID) -> Keys:
    """A saved record's keys as the view holds them (NOT_FOUND if the tenant has no such
    record): the same `key` expressions its candidates are compared by."""
    model = _MODELS[kind]
    found = await reads.execute_rows(
        sa.select(col(model.id), col(model.lexware_contact_id)).where(col(model.id) == record_id)
    )
    record = found.first()
    if record is None:
        raise NotFound(_LABELS[kind])
    rows = await reads.execute_rows(
        sa.select(_RULE, _KEY, _VALUE).where(_named(kind.value) == _KIND, record_id == _RECORD)
    )
    exact: dict[DuplicateRule, dict[str, str]] = {}
    name, shown = None, None
    for row in rows:
        if row.rule == DuplicateRule.SIMILAR_NAME.value:
            name, shown = row.key, row.value
        else:
            exact.setdefault(DuplicateRule(row.rule), {})[row.key] = row.value
    return Keys(
        kind,
        exact,
        name=name,
        name_shown=shown,
        lexware_contact_id=record.lexware_contact_id,
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
        sa.and_(_named(rule.value) == _RULE, _KEY.in_(list(values)))
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
        conditions.append(sa.and_(_named(rule.value) == _RULE, key == _KEY))
    return conditions


def _candidates_statement(keys: Keys) -> Any | None:
    kind = _named(keys.kind.value)
    others = [] if keys.exclude is None else [keys.exclude != _RECORD]
    selects = []
    exact = _exact_conditions(keys)
    nothing = sa.literal(None, sa.Float()).label("similarity")
    if exact:
        selects.append(
            sa.select(_RECORD, _RULE, _VALUE, _KEY, nothing)
            .where(kind == _KIND, sa.or_(*exact), *others)
            .limit(MAX_EXACT)
        )
    if keys.name is not None:
        name = _name_key(keys)
        similarity = sa.func.similarity(_KEY, name)
        selects.append(
            sa.select(_RECORD, _RULE, _VALUE, _KEY, sa.cast(similarity, sa.Float()))
            .where(
                kind == _KIND,
                _named(DuplicateRule.SIMILAR_NAME.value) == _RULE,
                _KEY.op("%")(name),
                *others,
            )
            .order_by(similarity.desc(), _RECORD)
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
    statement = _candidates_statement(keys)
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


# ---- the tenant-wide report ----------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    first_id: uuid.UUID  # first_id < second_id
    second_id: uuid.UUID
    score: float
    matches: tuple[RuleMatch, ...]
    cursor: str


@dataclass(frozen=True)
class PairPage:
    pairs: Sequence[Pair]
    has_more: bool


def _groups_statement(kind: DuplicateKind) -> Any:
    rules = [_named(rule.value) for rule in REPORT_RULES[kind]]
    return (
        sa.select(
            _RULE,
            sa.func.array_agg(postgresql.aggregate_order_by(_RECORD, _RECORD)).label("ids"),
            sa.func.array_agg(postgresql.aggregate_order_by(_VALUE, _RECORD)).label(
                "record_values"
            ),
        )
        .where(_named(kind.value) == _KIND, _RULE.in_(rules))
        .group_by(_RULE, _KEY)
        .having(sa.func.count(sa.distinct(_RECORD)).between(2, MAX_GROUP))
    )


def encode_pair_cursor(score: float, first_id: uuid.UUID, second_id: uuid.UUID) -> str:
    raw = orjson.dumps(["duplicates", score, str(first_id), str(second_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_pair_cursor(cursor: str) -> tuple[float, uuid.UUID, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, score, first_id, second_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if name != "duplicates" or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ValueError("not a duplicates cursor")
        return float(score), uuid.UUID(first_id), uuid.UUID(second_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInput.single("after", "is not a cursor of this report") from None


async def pair_page(reads: Reading, kind: DuplicateKind, first: int, after: str | None) -> PairPage:
    """Pairs sharing a key, strongest first (then by ids), each pair once, keyset-paged."""
    position = None if after is None else decode_pair_cursor(after)
    found: dict[tuple[uuid.UUID, uuid.UUID], list[RuleMatch]] = {}
    for group in await reads.execute_rows(_groups_statement(kind)):
        rule = DuplicateRule(group.rule)
        members = list(zip(group.ids, group.record_values, strict=True))
        for index, (a, a_value) in enumerate(members):
            for b, b_value in members[index + 1 :]:
                if a == b:  # one record with the key twice (two equal phones)
                    continue
                similarity = 1.0 if rule is DuplicateRule.SIMILAR_NAME else None
                match = RuleMatch(rule, a_value, b_value, similarity)
                found.setdefault((a, b), []).append(match)
    scored = sorted(
        ((-combined(kind, matches), a, b, matches) for (a, b), matches in found.items()),
        key=lambda item: item[:3],
    )
    if position is not None:
        bound = (-position[0], position[1], position[2])
        scored = [item for item in scored if item[:3] > bound]
    pairs = [
        Pair(a, b, -negative, _deduplicated(matches), encode_pair_cursor(-negative, a, b))
        for negative, a, b, matches in scored[:first]
    ]
    return PairPage(pairs, has_more=len(scored) > first)


def _deduplicated(matches: list[RuleMatch]) -> tuple[RuleMatch, ...]:
    return tuple(dict.fromkeys(matches))


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


async def report_page(
    scope: TenantScope, kind: DuplicateKind, first: int, after: str | None
) -> PairPage:
    async with scope.reading() as reads:
        return await pair_page(reads, kind, first, after)


async def count_pairs(scope: TenantScope, kind: DuplicateKind) -> int:
    async with scope.reading() as reads:
        page = await pair_page(reads, kind, 2**31, None)
    return len(page.pairs)
