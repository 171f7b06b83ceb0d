"""What makes two records likely duplicates (declarations, no I/O): the rules, their weights,
how matches combine into a score, and a draft (a record not saved yet) as the keys it has.

A rule compares one normalized value of both records (`duplicate_key`, migration 0018): VAT
id (stored normalized), e-mail address (any entry, ignoring case), phone (E.164), Lexware
contact, website domain (without `www.`), name and postcode, name and company (contacts), or
a similar name (trigram similarity of the folded names without legal forms and punctuation:
`crm_name_key`; a contact's folded full name). Each matching rule has a weight w (0..1; a
similar name: its weight times the similarity) and the score is 1 - prod(1 - w): the chance
that at least one of the matches is right, if each were right with its weight on its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from app.errors import BadUserInput
from app.services.contact_info.rules import MAX_VALUES, phone_e164


class DuplicateKind(Enum):
    COMPANY = "company"
    CONTACT = "contact"


class DuplicateRule(Enum):
    VAT_ID = "VAT_ID"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    LEXWARE_CONTACT = "LEXWARE_CONTACT"
    WEBSITE_DOMAIN = "WEBSITE_DOMAIN"
    NAME_AND_POSTCODE = "NAME_AND_POSTCODE"
    NAME_AND_COMPANY = "NAME_AND_COMPANY"
    SIMILAR_NAME = "SIMILAR_NAME"


class Strength(Enum):
    STRONG = "STRONG"
    LIKELY = "LIKELY"
    POSSIBLE = "POSSIBLE"


# How sure one match alone makes us. A company's shared e-mail or phone is weaker than a
# person's (a switchboard, info@ of a group), a similar name weakest (scaled by similarity).
WEIGHTS: dict[DuplicateKind, dict[DuplicateRule, float]] = {
    DuplicateKind.COMPANY: {
        DuplicateRule.LEXWARE_CONTACT: 0.99,
        DuplicateRule.VAT_ID: 0.95,
        DuplicateRule.EMAIL: 0.9,
        DuplicateRule.NAME_AND_POSTCODE: 0.9,
        DuplicateRule.PHONE: 0.8,
        DuplicateRule.WEBSITE_DOMAIN: 0.8,
        DuplicateRule.SIMILAR_NAME: 0.6,
    },
    DuplicateKind.CONTACT: {
        DuplicateRule.LEXWARE_CONTACT: 0.99,
        DuplicateRule.EMAIL: 0.95,
        DuplicateRule.NAME_AND_COMPANY: 0.9,
        DuplicateRule.PHONE: 0.7,
        DuplicateRule.SIMILAR_NAME: 0.5,
    },
}
STRONG_FROM = 0.9  # a STRONG match is refused by rejectDuplicates
LIKELY_FROM = 0.6
SIMILAR_NAME_FROM = 0.6  # trigram similarity of the name keys (pg_trgm's `%` threshold)
SCORE_PLACES = 4
# Exact rules whose keys the report groups: a key more records share than this is no sign
# of a duplicate (a group's switchboard, a shared info@ address, a name as common as a city).
MAX_GROUP = 20
MAX_NAME = 200
MAX_TEXT = 500


def strength(score: float) -> Strength:
    if score >= STRONG_FROM:
        return Strength.STRONG
    return Strength.LIKELY if score >= LIKELY_FROM else Strength.POSSIBLE


@dataclass(frozen=True)
class RuleMatch:
    """One rule that matched: this record's value and the candidate's (as stored), and for a
    similar name the similarity (0..1)."""

    rule: DuplicateRule
    value: str | None
    candidate_value: str
    similarity: float | None = None


def weight_of(kind: DuplicateKind, match: RuleMatch) -> float:
    weight = WEIGHTS[kind][match.rule]
    return weight * match.similarity if match.similarity is not None else weight


def combined(kind: DuplicateKind, matches: Iterable[RuleMatch]) -> float:
    """1 - prod(1 - w) over the rules that matched (each rule once, its strongest match)."""
    best: dict[DuplicateRule, float] = {}
    for match in matches:
        best[match.rule] = max(best.get(match.rule, 0.0), weight_of(kind, match))
    remaining = 1.0
    for weight in best.values():
        remaining *= 1.0 - weight
    return round(1.0 - remaining, SCORE_PLACES)


@dataclass(frozen=True)
class Candidate:
    record_id: uuid.UUID
    score: float
    matches: tuple[RuleMatch, ...]

    @property
    def strength(self) -> Strength:
        return strength(self.score)


def ranked(kind: DuplicateKind, found: dict[uuid.UUID, list[RuleMatch]]) -> list[Candidate]:
    """Strongest first, ties by id; each candidate's matches in the rules' weight order."""
    order = list(WEIGHTS[kind])
    candidates = [
        Candidate(
            record_id,
            combined(kind, matches),
            tuple(sorted(matches, key=lambda m: (order.index(m.rule), m.candidate_value))),
        )
        for record_id, matches in found.items()
    ]
    return sorted(candidates, key=lambda c: (-c.score, c.record_id))


@dataclass(frozen=True)
class Keys:
    """What a record (saved or a draft) is compared by: rule -> {key: its value as shown}.
    `name`: the name to compare by similarity (folded in SQL); `exclude`: the record itself."""

    kind: DuplicateKind
    exact: dict[DuplicateRule, dict[str, str]] = field(default_factory=dict)
    name: str | None = None
    name_shown: str | None = None
    lexware_contact_id: uuid.UUID | None = None
    exclude: uuid.UUID | None = None
    name_is_key: bool = False  # `name` is a saved record's key already (else folded in SQL)
    # Drafts: values the database normalizes (crm_domain, crm_name_key) (rule -> raw value).
    raw: dict[DuplicateRule, str] = field(default_factory=dict)

    def strong_keys(self) -> list[str]:
        """The keys a concurrent write of a duplicate would share: what rejectDuplicates locks."""
        keys = [
            f"{rule.value}:{key}"
            for rule in (DuplicateRule.VAT_ID, DuplicateRule.EMAIL)
            for key in self.exact.get(rule, {})
        ]
        if self.lexware_contact_id is not None:
            keys.append(f"LEXWARE_CONTACT:{self.lexware_contact_id}")
        return sorted(keys)


def normalized_vat_id(value: str) -> str:
    """As the services store it (common/validation.py: _check_vat_id)."""
    return re.sub(r"[\s.\-]", "", value).upper()


def _bounded(value: str | None, name: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > limit:
        raise BadUserInput.single(name, f"must be at most {limit} characters")
    return value.strip()


def _listed(values: Sequence[str] | None, name: str) -> list[str]:
    values = [v for v in values or () if v.strip()]
    if len(values) > MAX_VALUES:
        raise BadUserInput.single(name, f"at most {MAX_VALUES} entries")
    return [_bounded(v, name, 320) or "" for v in values]


def _contact_keys(
    keys: Keys, emails: Sequence[str] | None, phones: Sequence[str] | None, prefix: str
) -> None:
    for email in _listed(emails, f"{prefix}.emails"):
        keys.exact.setdefault(DuplicateRule.EMAIL, {})[email.lower()] = email
    for phone in _listed(phones, f"{prefix}.phones"):
        e164 = phone_e164(phone)
        if e164 is not None:
            keys.exact.setdefault(DuplicateRule.PHONE, {})[e164] = phone


@dataclass(frozen=True)
class CompanyDraft:
    id: uuid.UUID | None = None
    name: str | None = None
    vat_id: str | None = None
    website: str | None = None
    zip: str | None = None
    emails: Sequence[str] | None = None
    phones: Sequence[str] | None = None
    lexware_contact_id: uuid.UUID | None = None

    def keys(self) -> Keys:
        name = _bounded(self.name, "company.name", MAX_NAME)
        keys = Keys(
            DuplicateKind.COMPANY,
            name=name,
            name_shown=name,
            lexware_contact_id=self.lexware_contact_id,
            exclude=self.id,
        )
        vat = _bounded(self.vat_id, "company.vatId", 50)
        if vat:
            keys.exact[DuplicateRule.VAT_ID] = {normalized_vat_id(vat): vat}
        website = _bounded(self.website, "company.website", MAX_TEXT)
        if website:
            keys.raw[DuplicateRule.WEBSITE_DOMAIN] = website
        postcode = _bounded(self.zip, "company.zip", 20)
        if name and postcode:
            keys.raw[DuplicateRule.NAME_AND_POSTCODE] = postcode
        _contact_keys(keys, self.emails, self.phones, "company")
        return keys


@dataclass(frozen=True)
class ContactDraft:
    id: uuid.UUID | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_id: uuid.UUID | None = None
    emails: Sequence[str] | None = None
    phones: Sequence[str] | None = None
    lexware_contact_id: uuid.UUID | None = None

    def keys(self) -> Keys:
        first = _bounded(self.first_name, "contact.firstName", 100)
        last = _bounded(self.last_name, "contact.lastName", 100)
        name = " ".join(n for n in (first, last) if n) or None
        keys = Keys(
            DuplicateKind.CONTACT,
            name=name,
            name_shown=name,
            lexware_contact_id=self.lexware_contact_id,
            exclude=self.id,
        )
        if name and self.company_id is not None:
            keys.raw[DuplicateRule.NAME_AND_COMPANY] = str(self.company_id)
        _contact_keys(keys, self.emails, self.phones, "contact")
        return keys
