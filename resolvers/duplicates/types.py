"""Duplicate candidates and pairs: which record, how strong, and the rules that matched."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.services.duplicates import rules
from app.services.duplicates.report import Pair
from app.services.duplicates.rules import Candidate, DuplicateKind, RuleMatch, Strength
from resolvers.common.described import described_enum
from resolvers.common.relations import LIST_SIZE
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.search.types import RecordOf

MAX_MATCHES = 50  # the query cost's bound: a record's e-mails and phones, and its other keys


def _weights(rule: rules.DuplicateRule) -> str:
    """The rule's weight in the score, per kind of record it applies to."""
    weights = [
        f"{kind.value} {rules.WEIGHTS[kind][rule]}" for kind in DuplicateKind
        if rule in rules.WEIGHTS[kind]
    ]  # fmt: skip
    return f"(weight: {', '.join(weights)})"


_R = rules.DuplicateRule
DuplicateRule = described_enum(
    rules.DuplicateRule,
    "Why two records look like one: same VAT id (normalized), e-mail address "
    "(any entry, ignoring case), phone number (E.164), Lexware contact, website domain, name "
    "and postcode, name and company (contacts), or a similar name (trigram similarity of the "
    "names folded, without legal forms and punctuation).",
    {
        "VAT_ID": f"The same VAT id, spaces, dots and case ignored {_weights(_R.VAT_ID)}.",
        "EMAIL": f"An e-mail address both have, ignoring case {_weights(_R.EMAIL)}.",
        "PHONE": "A phone number both have, compared in its E.164 form (0711 1234560 = "
        f"+49 711 123456-0) {_weights(_R.PHONE)}.",
        "LEXWARE_CONTACT": "Linked to (or, for a draft, naming) the same Lexware contact "
        f"{_weights(_R.LEXWARE_CONTACT)}.",
        "WEBSITE_DOMAIN": "The same website domain, without www. and path "
        f"(https://www.acme.de/kontakt = acme.de) {_weights(_R.WEBSITE_DOMAIN)}.",
        "NAME_AND_POSTCODE": "Companies: the same folded name and billing postcode "
        f"{_weights(_R.NAME_AND_POSTCODE)}.",
        "NAME_AND_COMPANY": "Contacts: the same full name (folded) at the same company "
        f"{_weights(_R.NAME_AND_COMPANY)}.",
        "SIMILAR_NAME": f"Names with a trigram similarity of at least {rules.SIMILAR_NAME_FROM} "
        "once folded (case, accents, ä/ae, ß/ss, legal forms and punctuation left out); its "
        f"weight times the similarity {_weights(_R.SIMILAR_NAME)}.",
    },
)
DuplicateStrength = described_enum(
    Strength,
    f"STRONG from a score of {rules.STRONG_FROM}, LIKELY from {rules.LIKELY_FROM}.",
    {
        "STRONG": f"Score {rules.STRONG_FROM} or more: almost surely the same; rejectDuplicates "
        "refuses a write that has one.",
        "LIKELY": f"Score from {rules.LIKELY_FROM} to below {rules.STRONG_FROM}: worth a look.",
        "POSSIBLE": f"Score below {rules.LIKELY_FROM}: a weak hint, such as a similar name.",
    },
    name="DuplicateStrength",
)
DuplicateType = described_enum(
    DuplicateKind,
    "Which records a duplicates report compares.",
    {"COMPANY": "Companies with companies.", "CONTACT": "Contacts with contacts."},
    name="DuplicateType",
)

DuplicateRecord = Annotated[
    Company | Contact,
    strawberry.union("DuplicateRecord", description="A company or a contact."),
]
GRAPHQL_TYPES: dict[DuplicateKind, type] = {
    DuplicateKind.COMPANY: Company,
    DuplicateKind.CONTACT: Contact,
}


def as_record(kind: DuplicateKind, row: Any) -> Any:
    return strawberry.cast(GRAPHQL_TYPES[kind], RecordOf(row))


@strawberry.type(description="A rule that matched, with the values it compared.")
class DuplicateMatch:
    rule: DuplicateRule = strawberry.field(  # type: ignore[valid-type]
        description="The rule that matched."
    )
    value: str | None = strawberry.field(description="This record's value (a draft's as sent).")
    candidate_value: str = strawberry.field(description="The other record's value, as stored.")
    similarity: float | None = strawberry.field(
        description="For SIMILAR_NAME: the trigram similarity of the names (0..1)."
    )

    @staticmethod
    def of(match: RuleMatch) -> DuplicateMatch:
        return DuplicateMatch(
            rule=match.rule,
            value=match.value,
            candidate_value=match.candidate_value,
            similarity=match.similarity,
        )


SCORE = (
    "0..1, higher first: 1 - prod(1 - w) over the rules that matched, w each rule's weight "
    "(a similar name's weight times its similarity)."
)


@strawberry.type(description="A record that may be the same as the one checked.")
class DuplicateCandidate:
    record: DuplicateRecord = strawberry.field(
        description="The existing company or contact that may be the same."
    )
    score: float = strawberry.field(description=SCORE)
    strength: DuplicateStrength = strawberry.field(  # type: ignore[valid-type]
        description="The score as a band: STRONG, LIKELY or POSSIBLE."
    )
    matches: list[DuplicateMatch] = strawberry.field(
        description="Every rule that matched, with both values (value: the checked record's "
        "or draft's, candidateValue: this candidate's).",
        metadata={LIST_SIZE: MAX_MATCHES},
    )

    @staticmethod
    def of(kind: DuplicateKind, candidate: Candidate, row: Any) -> DuplicateCandidate:
        return DuplicateCandidate(
            record=as_record(kind, row),
            score=candidate.score,
            strength=candidate.strength,
            matches=[DuplicateMatch.of(m) for m in candidate.matches],
        )


@strawberry.type(description="Two records that may be one (`record`'s id sorts before `other`'s).")
class DuplicatePair:
    record: DuplicateRecord = strawberry.field(description="One record of the pair.")
    other: DuplicateRecord = strawberry.field(
        description="The record it may duplicate (of the same type)."
    )
    score: float = strawberry.field(description=SCORE)
    strength: DuplicateStrength = strawberry.field(  # type: ignore[valid-type]
        description="The score as a band: STRONG, LIKELY or POSSIBLE."
    )
    matches: list[DuplicateMatch] = strawberry.field(
        description="value: `record`'s, candidateValue: `other`'s.",
        metadata={LIST_SIZE: MAX_MATCHES},
    )

    @staticmethod
    def of(kind: DuplicateKind, pair: Pair, first: Any, second: Any) -> DuplicatePair:
        return DuplicatePair(
            record=as_record(kind, first),
            other=as_record(kind, second),
            score=pair.score,
            strength=rules.strength(pair.score),
            matches=[DuplicateMatch.of(m) for m in pair.matches],
        )
