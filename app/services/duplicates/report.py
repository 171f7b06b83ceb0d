"""The tenant-wide duplicates report: pairs of records sharing a key, to clean up.

Bounded at any size: no pair is compared that does not share a key, and a page reads keys in
index order only as far as it needs. The report goes rule by rule, strongest rule first
(`REPORT_RULES`, the rules' weight order), and within a rule by key: each rule's branch of
`duplicate_key` is read in the order of its (tenant, key) btree index, grouped as it is read
(`GROUP BY key HAVING count BETWEEN 2 AND MAX_GROUP`, `ORDER BY key LIMIT`), so the first
groups come without reading the rest. A pair is listed once, under the strongest rule it
shares (a pair sharing a VAT id and an e-mail comes with the VAT ids, and is skipped among
the e-mails), with every rule it shares and its score. The cursor is (rule, key, ids).
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
from sqlmodel import col

from app.data.tenancy import TenantScope
from app.data.unit_of_work import Reading
from app.errors import BadUserInput
from app.services.duplicates.queries import KEY, KIND, RECORD, RULE, VALUE, named
from app.services.duplicates.rules import (
    MAX_GROUP,
    DuplicateKind,
    DuplicateRule,
    RuleMatch,
    combined,
)
from models import Company, Contact, ContactEmail, ContactPhone

# Strongest first: the order pairs are listed in (a similar name: an equal name key here).
REPORT_RULES = {
    DuplicateKind.COMPANY: (
        DuplicateRule.VAT_ID,
        DuplicateRule.EMAIL,
        DuplicateRule.NAME_AND_POSTCODE,
        DuplicateRule.PHONE,
        DuplicateRule.WEBSITE_DOMAIN,
        DuplicateRule.SIMILAR_NAME,
    ),
    DuplicateKind.CONTACT: (
        DuplicateRule.EMAIL,
        DuplicateRule.NAME_AND_COMPANY,
        DuplicateRule.PHONE,
        DuplicateRule.SIMILAR_NAME,
    ),
}
GROUPS_PER_READ = 200


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


Position = tuple[int, str, uuid.UUID, uuid.UUID]  # rule's place, key, first id, second id


def encode_cursor(position: Position) -> str:
    tier, key, first_id, second_id = position
    raw = orjson.dumps(["duplicates", tier, key, str(first_id), str(second_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: DuplicateKind) -> Position:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, tier, key, first_id, second_id = orjson.loads(base64.urlsafe_b64decode(padded))
        valid = isinstance(tier, int) and 0 <= tier < len(REPORT_RULES[kind])
        if name != "duplicates" or not valid or not isinstance(key, str):
            raise ValueError("not a duplicates cursor")
        return tier, key, uuid.UUID(first_id), uuid.UUID(second_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInput.single("after", "is not a cursor of this report") from None


@dataclass(frozen=True)
class Source:
    """Where a rule's keys are, read from the table itself: under row-level security an
    index's order serves an ORDER BY (the tenant condition is leakproof; an order is no
    condition), which through the view's UNION ALL it did not."""

    model: Any
    key: Any  # the expression of the (tenant, key) index, literally (no parameters)
    record: Any
    shown: Any
    where: Any = None


def _live(owner: Any, link: Any) -> Any:
    """The value belongs to an owner of this kind that is not in the trash (the tenant filter
    hides trashed owners inside the semi-join): a trashed record is half of no pair."""
    return sa.and_(link.isnot(None), sa.exists().where(col(owner.id) == link))


def _sources() -> dict[tuple[DuplicateKind, DuplicateRule], Source]:
    space: Any = sa.literal_column("' '")
    zip_code: Any = sa.literal_column("'zip'")
    person = sa.func.crm_person(col(Contact.first_name), col(Contact.last_name))
    postcode = col(Company.billing_address).op("->>")(zip_code)
    email, phone = sa.func.lower(col(ContactEmail.email)), col(ContactPhone.e164)
    company, contact = DuplicateKind.COMPANY, DuplicateKind.CONTACT
    return {
        (company, DuplicateRule.VAT_ID): Source(
            Company, col(Company.vat_id), col(Company.id), col(Company.vat_id)
        ),
        (company, DuplicateRule.EMAIL): Source(
            ContactEmail, email, col(ContactEmail.company_id), col(ContactEmail.email),
            _live(Company, col(ContactEmail.company_id)),
        ),
        (company, DuplicateRule.NAME_AND_POSTCODE): Source(
            Company, col(Company.dedupe_name).op("||")(space).op("||")(postcode),
            col(Company.id), col(Company.name),
        ),
        (company, DuplicateRule.PHONE): Source(
            ContactPhone, phone, col(ContactPhone.company_id), col(ContactPhone.phone),
            _live(Company, col(ContactPhone.company_id)),
        ),
        (company, DuplicateRule.WEBSITE_DOMAIN): Source(
            Company, sa.func.crm_domain(col(Company.website)), col(Company.id),
            col(Company.website),
        ),
        (company, DuplicateRule.SIMILAR_NAME): Source(
            Company, col(Company.dedupe_name), col(Company.id), col(Company.name)
        ),
        (contact, DuplicateRule.EMAIL): Source(
            ContactEmail, email, col(ContactEmail.contact_id), col(ContactEmail.email),
            _live(Contact, col(ContactEmail.contact_id)),
        ),
        (contact, DuplicateRule.NAME_AND_COMPANY): Source(
            Contact,
            col(Contact.search_name).op("||")(space).op("||")(
                sa.literal_column("company_id::text")
            ),
            col(Contact.id), person,
        ),
        (contact, DuplicateRule.PHONE): Source(
            ContactPhone, phone, col(ContactPhone.contact_id), col(ContactPhone.phone),
            _live(Contact, col(ContactPhone.contact_id)),
        ),
        (contact, DuplicateRule.SIMILAR_NAME): Source(
            Contact, col(Contact.search_name), col(Contact.id), person
        ),
    }  # fmt: skip


SOURCES = _sources()


def groups_statement(
    kind: DuplicateKind, rule: DuplicateRule, after: str | None, limit: int
) -> Any:
    """The next `limit` keys of a rule that 2 to MAX_GROUP rows share, in key order, from
    `after` on (inclusive: its pairs past the cursor's are still to come). Read in the order
    of the rule's index, grouped as read: the first groups come without reading the rest."""
    source = SOURCES[(kind, rule)]
    key = source.key.label("key")
    statement = (
        sa.select(
            key,
            sa.func.array_agg(source.record).label("ids"),
            sa.func.array_agg(source.shown).label("shown"),
        )
        .where(source.key.isnot(None), source.key != sa.literal_column("''"))
        .group_by(source.key)
        .having(sa.func.count().between(2, MAX_GROUP))
        .order_by(source.key)
        .limit(limit)
    )
    if source.where is not None:
        statement = statement.where(source.where)
    return statement if after is None else statement.where(source.key >= after)


async def _keys_of(
    reads: Reading, kind: DuplicateKind, ids: set[uuid.UUID]
) -> dict[uuid.UUID, dict[DuplicateRule, dict[str, str]]]:
    """Every key of these records (to find all the rules a pair shares), one statement."""
    rows = await reads.execute_rows(
        sa.select(RECORD, RULE, KEY, VALUE).where(
            named(kind.value) == KIND, RECORD.in_(sorted(ids))
        )
    )
    keys: dict[uuid.UUID, dict[DuplicateRule, dict[str, str]]] = {}
    for row in rows:
        keys.setdefault(row.record_id, {}).setdefault(DuplicateRule(row.rule), {})[row.key] = (
            row.value
        )
    return keys


def _shared(
    first: dict[DuplicateRule, dict[str, str]], second: dict[DuplicateRule, dict[str, str]]
) -> list[RuleMatch]:
    matches = []
    for rule, keys in first.items():
        for key in sorted(keys.keys() & second.get(rule, {}).keys()):
            similarity = 1.0 if rule is DuplicateRule.SIMILAR_NAME else None
            matches.append(RuleMatch(rule, keys[key], second[rule][key], similarity))
    return matches


async def _candidates(
    reads: Reading, kind: DuplicateKind, tier: int, after: Position | None, limit: int
) -> tuple[list[tuple[Position, list[tuple[str, str]]]], bool]:
    """Pairs of one rule from `after` on, in (key, ids) order: at most `limit`, and whether the
    rule has more keys."""
    rule = REPORT_RULES[kind][tier]
    start = after[1] if after is not None and after[0] == tier else None
    groups = list(await reads.execute_rows(groups_statement(kind, rule, start, limit)))
    found = []
    for group in groups:
        members = sorted(zip(group.ids, group.shown, strict=True))
        for index, (a, a_value) in enumerate(members):
            for b, b_value in members[index + 1 :]:
                # Past the cursor: a later key (the database's order), or its own key's later
                # pairs (compared here by id only: Python orders text otherwise).
                later = start is None or group.key != start or (a, b) > (after[2], after[3])  # type: ignore[index]
                if a != b and later:
                    found.append(((tier, group.key, a, b), [(a_value, b_value)]))
    return found, len(groups) == limit


async def pair_page(reads: Reading, kind: DuplicateKind, first: int, after: str | None) -> PairPage:
    """The `first` pairs after the cursor (rule by rule, key by key), each with every rule
    it shares and its score; `has_more`: whether more follow."""
    position = None if after is None else decode_cursor(after, kind)
    pairs: list[Pair] = []
    tier = 0 if position is None else position[0]
    while tier < len(REPORT_RULES[kind]) and len(pairs) <= first:
        found, more = await _candidates(reads, kind, tier, position, GROUPS_PER_READ)
        records = {record_id for (_, _, a, b), _ in found for record_id in (a, b)}
        keys = await _keys_of(reads, kind, records) if records else {}
        for spot, _values in found:
            _, _, a, b = spot
            matches = _shared(keys.get(a, {}), keys.get(b, {}))
            tiers = [
                REPORT_RULES[kind].index(m.rule) for m in matches if m.rule in REPORT_RULES[kind]
            ]
            if not matches or min(tiers) < tier:  # listed under a stronger rule already
                continue
            score = combined(kind, matches)
            pairs.append(Pair(a, b, score, tuple(matches), encode_cursor(spot)))
            if len(pairs) > first:
                break
        if found and more:
            position = found[-1][0]
        else:
            tier, position = tier + 1, None
    return PairPage(pairs[:first], has_more=len(pairs) > first)


async def report_page(
    scope: TenantScope, kind: DuplicateKind, first: int, after: str | None
) -> PairPage:
    async with scope.reading() as reads:
        return await pair_page(reads, kind, first, after)


async def count_pairs(scope: TenantScope, kind: DuplicateKind) -> int:
    """Every pair of the report (totalCount: the whole report read, on demand)."""
    async with scope.reading() as reads:
        page = await pair_page(reads, kind, 2**31, None)
    return len(page.pairs)
