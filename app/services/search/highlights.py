"""Which values of a hit matched, and where in each value, for highlighting.

The database decided that a value matched; here only the ranges are found, in Python, on the
values of one page. A value is folded as `crm_fold` folds it (case, accents, ä/ae, ß/ss),
keeping for each folded character the range of the original it came from, so a range found
in the folded text is a range of the text as stored. Offsets count characters (code points).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.services.search.rules import EmailTerm, NumberTerm, SearchQuery, Term, WordTerm

MAX_MATCHES = 10  # values listed per hit (the GraphQL field's declared size)
MAX_HIGHLIGHTS = 20  # ranges listed per value
SIMILAR = 0.7  # a typo'd word's likeness to a word of the value


@dataclass(frozen=True)
class Match:
    field: str
    text: str
    highlights: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Folded:
    text: str
    spans: list[tuple[int, int]]  # per folded character: its range in the original

    def original(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


def _fold(text: str) -> _Folded:
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(text):
        lowered = char.lower()
        if lowered == "ß":
            lowered = "ss"
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
        )
        for out in plain:
            if (
                out == "e"
                and chars
                and chars[-1] in "aou"
                and not (len(chars) > 1 and chars[-2] == "q")
            ):
                spans[-1] = (spans[-1][0], index + 1)  # "ue" folds to "u": it covers both
                continue
            chars.append(out)
            spans.append((index, index + 1))
    return _Folded("".join(chars), spans)


def _word_ranges(folded: _Folded, word: str) -> Iterable[tuple[int, int]]:
    target = _fold(word).text
    for token in re.finditer(r"\w+", folded.text):
        text, start = token.group(), token.start()
        if text.startswith(target):
            yield folded.original(start, start + len(target))
        elif target in text:
            at = start + text.index(target)
            yield folded.original(at, at + len(target))
        elif (
            max(
                difflib.SequenceMatcher(None, target, text).ratio(),
                difflib.SequenceMatcher(None, target, text[: len(target)]).ratio(),
            )
            >= SIMILAR
        ):
            yield folded.original(start, token.end())


def _substring_ranges(folded: _Folded, part: str) -> Iterable[tuple[int, int]]:
    target = _fold(part).text
    at = folded.text.find(target) if target else -1
    if at >= 0:
        yield folded.original(at, at + len(target))


def _kept(text: str, keep: str) -> _Folded:
    """The characters of `text` matching `keep` (digits, or lower-case alphanumerics)."""
    chars, spans = [], []
    for index, char in enumerate(text.lower()):
        if re.fullmatch(keep, char):
            chars.append(char)
            spans.append((index, index + 1))
    return _Folded("".join(chars), spans)


def _number_ranges(text: str, field: str, term: NumberTerm) -> Iterable[tuple[int, int]]:
    if field == "phone" and term.national:
        digits = _kept(text, "[0-9]")
        if digits.text.endswith(term.national):
            yield digits.original(len(digits.text) - len(term.national), len(digits.text))
        return
    compact = _kept(text, "[a-z0-9]")
    at = compact.text.find(term.compact)
    if at >= 0:
        yield compact.original(at, at + len(term.compact))


def _ranges(text: str, field: str, term: Term) -> list[tuple[int, int]]:
    if isinstance(term, NumberTerm):
        return list(_number_ranges(text, field, term))
    folded = _fold(text)
    if isinstance(term, EmailTerm):
        return list(_substring_ranges(folded, term.text))
    assert isinstance(term, WordTerm)
    return list(_word_ranges(folded, term.word))


def _merged(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged[:MAX_HIGHLIGHTS])


def matches_of(query: SearchQuery, matched: Sequence[tuple[int, str, str]]) -> tuple[Match, ...]:
    """Each value a term matched ((term index, field, value) rows of one hit), with the
    ranges every term of the query has in it; at most MAX_MATCHES values."""
    values: dict[tuple[str, str], None] = {}
    for _, field, text in sorted(matched, key=lambda m: m[0]):
        values.setdefault((field, text), None)
    found = []
    for field, text in list(values)[:MAX_MATCHES]:
        ranges = [r for term in query.terms for r in _ranges(text, field, term)]
        found.append(Match(field=field, text=text, highlights=_merged(ranges)))
    return tuple(found)
