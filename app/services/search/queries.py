"""The matcher: which records match a search query, how well, a keyset page of them.

Everything reads `search_entry` (models/search.py), whose branches carry the tenant of the
transaction and whose `folded` values are trigram-indexed, so each term's condition is an
index condition in each branch (docs/ARCHITECTURE.md section 14). Every list's
`filter.search` is `matching(kind, query)`: an id semi-join on the same conditions that
`search` ranks.

A term's points in a field: the field's weight times the word similarity of the term to the
value (pg_trgm, 0..1), plus 0.1 when a word of the value starts with the term and 0.1 more
when it is the term; an activity body's full-text match counts 0.8. A record's score is the
average over the terms of each term's best points, rounded to four places in SQL, so a
cursor compares exactly.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping
from sqlmodel import col

from app.data.pagination import like_literal
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.search.highlights import Match, matches_of
from app.services.search.rules import (
    FIELD_WEIGHTS,
    IDENTIFIER_FIELDS,
    EmailTerm,
    NumberTerm,
    SearchKind,
    SearchQuery,
    Term,
    WordTerm,
    parse,
)
from models import SearchEntry

_KIND, _RECORD, _FIELD = col(SearchEntry.kind), col(SearchEntry.record_id), col(SearchEntry.field)
_BODY, _FOLDED, _DOCUMENT = (
    col(SearchEntry.body),
    col(SearchEntry.folded),
    col(SearchEntry.document),
)
# Fields a word is matched in by trigrams: all but phones (digits), bodies (full text) and
# the addresses (only an address term is matched there: rules._is_address).
_WORD_FIELDS = tuple(f for f in FIELD_WEIGHTS if f not in ("phone", "body", "email", "website"))
_ADDRESS_FIELDS = ("email", "website")
BODY_POINTS = 0.8
# Activity bodies are searched for words of at least this length: as a word is typed, its first
# letters start words of most notes ("mu": 45,000 activities at 100,000 companies), and a
# note's text is never the record a typed name is after.
MIN_BODY_WORD = 4
SCORE_PLACES = 4


def _named(name: str) -> Any:
    """One of our own field or kind names, written into the SQL: the planner then drops the
    view's branches of other fields and kinds (a parameter would keep them in a generic
    plan). Never a client's text."""
    return sa.literal_column("'" + name.replace("'", "''") + "'", sa.Text())


def _in(column: Any, names: Sequence[str]) -> Any:
    return column.in_([_named(name) for name in names])


def _fold(value: str) -> Any:
    return sa.func.crm_fold(sa.literal(value, sa.Text()))


def _word(term: WordTerm) -> Any:
    word = _fold(term.word)
    matched = [sa.and_(_in(_FIELD, _WORD_FIELDS), word.op("<%")(_FOLDED))]
    if len(term.word) >= MIN_BODY_WORD:
        prefix = _fold(term.word + ":*")
        query = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), prefix)
        matched.append(sa.and_(_named("body") == _FIELD, _DOCUMENT.op("@@")(query)))
    if term.word.isdigit():  # part of a phone number, typed as you go
        matched.append(sa.and_(_named("phone") == _FIELD, _FOLDED.like(f"%{term.word}%")))
    return sa.or_(*matched)


def _word_points(term: WordTerm, field: Any, folded: Any) -> Any:
    word = _fold(term.word)
    # Word starts and whole words by LIKE on the value padded with spaces, not by a regular
    # expression, which cost more per value, and a page may score 100,000 values. The word
    # is alphanumeric, so it needs no escaping; a word after punctuation other than a space
    # ("mueller-bau") gets no boost, only its similarity.
    space = sa.literal(" ", sa.Text())
    padded = Grouping(space + folded + space)
    starts = padded.like(Grouping(sa.literal("% ", sa.Text()) + word + sa.literal("%", sa.Text())))
    whole = padded.like(Grouping(sa.literal("% ", sa.Text()) + word + sa.literal(" %", sa.Text())))
    similar = sa.func.word_similarity(word, folded)
    boost = sa.case((whole, 0.2), (starts, 0.1), else_=0.0)
    return sa.case(
        (_named("body") == field, BODY_POINTS * FIELD_WEIGHTS["body"]),
        (_named("phone") == field, FIELD_WEIGHTS["phone"]),
        else_=_weight(field) * (similar + boost),
    )


def _email(term: EmailTerm) -> Any:
    text = _fold(like_literal(term.text))
    contains = _FOLDED.like(sa.literal("%", sa.Text()) + text + sa.literal("%", sa.Text()))
    return sa.and_(_in(_FIELD, _ADDRESS_FIELDS), contains)


def _email_points(term: EmailTerm, field: Any, folded: Any) -> Any:
    exact = sa.case((_fold(term.text) == folded, 0.2), else_=0.0)
    return _weight(field) * (1.0 + exact)


def _number(term: NumberTerm) -> Any:
    identifier = sa.and_(_in(_FIELD, IDENTIFIER_FIELDS), _FOLDED.like(f"%{term.compact}%"))
    if term.national is None:
        return identifier
    return sa.or_(identifier, sa.and_(_named("phone") == _FIELD, _FOLDED.like(f"%{term.national}")))


def _number_points(term: NumberTerm, field: Any, folded: Any) -> Any:
    exact: Any = sa.literal(term.compact, sa.Text()) == folded
    if term.national is not None:
        exact = sa.or_(exact, sa.and_(_named("phone") == field, folded.like(f"%{term.national}")))
    return _weight(field) * (1.0 + sa.case((exact, 0.2), else_=0.0))


def _weight(field: Any) -> Any:
    weights = [(_named(name) == field, weight) for name, weight in FIELD_WEIGHTS.items()]
    return sa.case(*weights, else_=0.5)


def _condition(term: Term) -> Any:
    if isinstance(term, WordTerm):
        return _word(term)
    if isinstance(term, EmailTerm):
        return _email(term)
    return _number(term)


def _points(term: Term, field: Any, folded: Any) -> Any:
    if isinstance(term, WordTerm):
        return _word_points(term, field, folded)
    if isinstance(term, EmailTerm):
        return _email_points(term, field, folded)
    return _number_points(term, field, folded)


def _hits(query: SearchQuery, kinds: Sequence[SearchKind], *, scored: bool) -> Any:
    """One row per value a term matched: (kind, record_id, term[, field, body, folded])."""
    selects = []
    for index, term in enumerate(query.terms):
        columns: list[Any] = [_KIND, _RECORD, sa.literal(index, sa.Integer()).label("term")]
        if scored:
            columns += [_FIELD, _BODY, _FOLDED]
        statement = sa.select(*columns).where(_condition(term))
        if kinds:
            statement = statement.where(_in(_KIND, [kind.value for kind in kinds]))
        selects.append(statement)
    return sa.union_all(*selects) if len(selects) > 1 else selects[0]


def matching(kind: SearchKind, query: SearchQuery) -> Any:
    """A subquery of the ids of `kind` matching every term of `query` (a list's
    `filter.search`: `Company.id.in_(matching(...))`)."""
    if not query.terms:
        return sa.select(_RECORD).where(sa.false())
    hits = _hits(query, [kind], scored=False).subquery("hits")
    ids = sa.select(hits.c.record_id).group_by(hits.c.record_id)
    return ids.having(sa.func.count(sa.distinct(hits.c.term)) == len(query.terms))


def _scored(query: SearchQuery, kinds: Sequence[SearchKind]) -> tuple[Any, Any]:
    """The hits (a CTE: the page reads them twice) and each matching record's score."""
    # A CTE read twice is computed once: each value is folded once (in the scan), and the
    # points below read the folded text instead of folding it again per expression.
    hits = _hits(query, kinds, scored=True).cte("hits")
    points = sa.case(
        *[
            (hits.c.term == index, _points(term, hits.c.field, hits.c.folded))
            for index, term in enumerate(query.terms)
        ],
        else_=0.0,
    )
    best_points = sa.select(
        hits.c.kind, hits.c.record_id, sa.func.max(sa.cast(points, sa.Float())).label("best")
    )
    if len(query.terms) > 1:
        # Points only for the records that match every term: counting terms per record is
        # cheap, scoring a value (similarity, word boundaries) is not, and most values one
        # common word matches belong to records another word rules out (48,025 values and
        # 216 records for "muller masch" at 500,000 contacts).
        complete = (
            sa.select(hits.c.kind, hits.c.record_id)
            .group_by(hits.c.kind, hits.c.record_id)
            .having(sa.func.count(sa.distinct(hits.c.term)) == len(query.terms))
        ).subquery("complete")
        best_points = best_points.where(
            hits.c.kind == complete.c.kind, hits.c.record_id == complete.c.record_id
        )
    else:  # one term: its best points are the score, one grouping instead of two
        best = best_points.group_by(hits.c.kind, hits.c.record_id).subquery("best")
        score = sa.func.round(sa.cast(best.c.best, sa.Numeric()), SCORE_PLACES).label("score")
        return hits, sa.select(best.c.kind, best.c.record_id, score).subquery("scored")
    best = best_points.group_by(hits.c.kind, hits.c.record_id, hits.c.term).subquery("best")
    average = sa.cast(sa.func.sum(best.c.best) / len(query.terms), sa.Numeric())
    score = sa.func.round(average, SCORE_PLACES).label("score")
    scored = (
        sa.select(best.c.kind, best.c.record_id, score)
        .group_by(best.c.kind, best.c.record_id)
        .having(sa.func.count() == len(query.terms))
    ).subquery("scored")
    return hits, scored


@dataclass(frozen=True)
class SearchHit:
    kind: SearchKind
    record_id: uuid.UUID
    score: Decimal
    cursor: str
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class SearchPage:
    hits: Sequence[SearchHit]
    has_more: bool  # hits beyond these in the direction of travel


def encode_cursor(score: Decimal, kind: str, record_id: uuid.UUID) -> str:
    raw = orjson.dumps(["search", str(score), kind, str(record_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Decimal, str, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, score, kind, record_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if name != "search" or kind not in {k.value for k in SearchKind}:
            raise ValueError("not a search cursor")
        value = Decimal(score)
        if not value.is_finite() or abs(value) >= 1000:
            raise ValueError("score out of range")
        return value, kind, uuid.UUID(record_id)
    except (ValueError, TypeError, InvalidOperation, binascii.Error, orjson.JSONDecodeError):
        raise BadUserInput.single("after", "is not a cursor of this search") from None


def page_statement(
    query: SearchQuery,
    kinds: Sequence[SearchKind],
    first: int,
    cursor: tuple[Decimal, str, uuid.UUID] | None,
    backward: bool = False,
) -> Any:
    """The page's records (score desc, kind, id) with the values each matched, one row per
    value: (kind, record_id, score, term, field, body). Forward: the `first` records after
    `cursor` (a decoded position; and one more, to know whether more follow); backward: the
    `first` records before it (the list's last without one), and one more before them."""
    hits, scored = _scored(query, kinds)
    page = sa.select(scored)
    if cursor is not None:
        score, kind, record_id = cursor
        position, bound = sa.tuple_(scored.c.kind, scored.c.record_id), sa.tuple_(kind, record_id)
        if backward:
            page = page.where(
                sa.or_(scored.c.score > score, sa.and_(scored.c.score == score, position < bound))
            )
        else:
            page = page.where(
                sa.or_(scored.c.score < score, sa.and_(scored.c.score == score, position > bound))
            )
    order = (scored.c.score.desc(), scored.c.kind, scored.c.record_id)
    if backward:  # read from the cursor towards the list's start; answered in list order
        order = (scored.c.score, scored.c.kind.desc(), scored.c.record_id.desc())
    paged = page.order_by(*order).limit(first + 1).subquery("page")
    # Joined by WHERE, not JOIN: the tenant filter refuses a Core table named as a source,
    # which it cannot tell from the view inside a derived table (app/data/tenant_filter.py).
    return (
        sa.select(
            paged.c.kind, paged.c.record_id, paged.c.score, hits.c.term, hits.c.field, hits.c.body
        )
        .where(hits.c.kind == paged.c.kind, hits.c.record_id == paged.c.record_id)
        .order_by(paged.c.score.desc(), paged.c.kind, paged.c.record_id)
    )


async def search_page(
    scope: TenantScope,
    query: SearchQuery,
    kinds: Sequence[SearchKind],
    first: int,
    cursor: str | None,
    backward: bool = False,
) -> SearchPage:
    """A page of hits across kinds, in one statement; no terms: an empty page. `first` hits
    after `cursor`, or (`backward`) before it; `has_more` says whether more lie that way."""
    # a bad cursor is the client's error, whatever the query
    position = None if cursor is None else decode_cursor(cursor)
    if not query.terms or first == 0:
        return SearchPage((), False)
    statement = page_statement(query, kinds, first, position, backward)
    async with scope.reading() as reads:
        rows = (await reads.execute_rows(statement)).all()
    grouped: dict[tuple[str, uuid.UUID], list[Any]] = {}
    for row in rows:
        grouped.setdefault((row.kind, row.record_id), []).append(row)
    records = list(grouped.items())
    # The one record more than asked for is the last in list order forward, the first backward.
    shown = records[-first:] if backward else records[:first]
    hits = []
    for (kind, record_id), values in shown:
        score = values[0].score
        matched = [(row.term, row.field, row.body) for row in values]
        hits.append(
            SearchHit(
                kind=SearchKind(kind),
                record_id=record_id,
                score=score,
                cursor=encode_cursor(score, kind, record_id),
                matches=matches_of(query, matched),
            )
        )
    return SearchPage(hits, has_more=len(grouped) > first)


async def count_hits(scope: TenantScope, query: SearchQuery, kinds: Sequence[SearchKind]) -> int:
    if not query.terms:
        return 0
    _, scored = _scored(query, kinds)
    async with scope.reading() as reads:
        found = await reads.execute_rows(sa.select(sa.func.count(scored.c.record_id)))
    return int(found.scalar_one())


def search_query(text: str) -> SearchQuery:
    """The `search` field's query: something to search for, within the limits."""
    if not text.strip():
        raise BadUserInput.single("query", "must not be empty")
    return parse(text, "query")


def direct_condition(columns: Sequence[Any], text: str | None, field: str) -> list[Any]:
    """The matcher's rules on a few columns of a small table read directly (a tenant's
    pipelines, its users): every term must match one of the columns as it would match a name
    in `search` (folded, typo-tolerant words; addresses and numbers as substrings). No index
    and no view: a tenant has a handful of these rows, read under its policies."""
    if text is None or not text.strip():
        return []
    query = parse(text, field)
    if not query.terms:
        return [sa.false()]
    return [sa.and_(*(sa.or_(*(_direct(term, c) for c in columns)) for term in query.terms))]


def _direct(term: Term, column: Any) -> Any:
    if isinstance(term, WordTerm):
        return _fold(term.word).op("<%")(sa.func.crm_fold(column))
    if isinstance(term, EmailTerm):
        text = _fold(like_literal(term.text))
        pattern = sa.literal("%", sa.Text()) + text + sa.literal("%", sa.Text())
        return sa.func.crm_fold(column).like(pattern)
    return sa.func.crm_compact(column).like(f"%{term.compact}%")


def search_condition(
    kind: SearchKind, id_column: Any, text: str | None, field: str = "filter.search"
) -> list[Any]:
    """A list's `filter.search`: its records (`id_column`) that the matcher finds, as the
    conditions to add to the list's own (none for no search; a blank one is no search
    either, as an empty search box is)."""
    if text is None or not text.strip():
        return []
    return [id_column.in_(matching(kind, parse(text, field)))]
