"""Duplicate candidates and pairs: which record, how strong, and the rules that matched."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.services.duplicates import rules
from app.services.duplicates.report import Pair
from app.services.duplicates.rules import Candidate, DuplicateKind, RuleMatch, Strength
from resolvers.common.relations import LIST_SIZE
from resolvers.companies.types import Company
from resolvers.contacts.types import Contact
from resolvers.search.types import RecordOf

MAX_MATCHES = 50  # the query cost's bound: a record's e-mails and phones, and its other keys

DuplicateRule = strawberry.enum(
    rules.DuplicateRule,
    description="Why two records look like one: same VAT id (normalized), e-mail address "
    "(any entry, ignoring case), phone number (E.164), Lexware contact, website domain, name "
    "and postcode, name and company (contacts), or a similar name (trigram similarity of the "
    "names folded, without legal forms and punctuation).",
)
DuplicateStrength = strawberry.enum(
    Strength,
    name="DuplicateStrength",
    description=f"STRONG from a score of {rules.STRONG_FROM}, LIKELY from {rules.LIKELY_FROM}.",
)
DuplicateType = strawberry.enum(DuplicateKind, name="DuplicateType")

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
    rule: DuplicateRule  # type: ignore[valid-type]
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
    record: DuplicateRecord
    score: float = strawberry.field(description=SCORE)
    strength: DuplicateStrength  # type: ignore[valid-type]
    matches: list[DuplicateMatch] = strawberry.field(metadata={LIST_SIZE: MAX_MATCHES})

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
    record: DuplicateRecord
    other: DuplicateRecord
    score: float = strawberry.field(description=SCORE)
    strength: DuplicateStrength  # type: ignore[valid-type]
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
