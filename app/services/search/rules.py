"""What a search query means: its terms, each of which a record must match somewhere.

A query is split into words; each significant word is a term that some field of the record
must match (in any order, across fields: "muller stuttgart" is a name and a city). Legal-form
words (GmbH, AG, GmbH & Co. KG, e.K., ...) are left out unless the query is nothing else. A
word with `@`, or shaped like a web address (`mueller-bau.de`), is part of an address, matched
as a substring of the e-mail addresses and websites; other words are not matched there. A
query that is mostly digits (a phone number, a VAT id, a trade register number typed with
spaces) is one term: a phone number ending with its national significant number
(`phonenumbers`, region DE by default), or an identifier containing it.

Folding (case, accents, ä/ae, ß/ss) is not done here: the database folds the query with the
same function it folds the records with (`crm_fold`, migration 0014), so both agree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

import phonenumbers

from app.errors import BadUserInput

MAX_QUERY_LENGTH = 200
MAX_WORDS = 8
MIN_WORD_LENGTH = 2  # search as you type from the second character
PHONE_REGION = "DE"


class SearchKind(Enum):
    """What a search hit is; the view's `kind`, and the order of kinds among equal scores."""

    ACTIVITY = "activity"
    COMPANY = "company"
    CONTACT = "contact"
    CONTRACT = "contract"
    DEAL = "deal"


# How much a match in each field counts (the view's `field`): a record's name first, then
# what identifies it, how to reach it, where it is and how it is tagged, then activity text.
FIELD_WEIGHTS = {
    "name": 1.0,
    "title": 1.0,
    "vatId": 0.9,
    "taxId": 0.9,
    "tradeRegisterNumber": 0.9,
    "number": 0.9,
    "email": 0.8,
    "phone": 0.8,
    "subject": 0.8,
    "website": 0.7,
    "city": 0.6,
    "tags": 0.6,
    "body": 0.4,
}
IDENTIFIER_FIELDS = ("vatId", "taxId", "tradeRegisterNumber", "number")

# Legal forms as the folded words they are typed as (`e.K.` is the words `e`, `k`).
LEGAL_FORMS = (
    "gmbh & co kgaa",
    "gmbh & co kg",
    "gmbh & co ohg",
    "gmbh co kg",
    "ag & co kg",
    "ug haftungsbeschrankt",
    "ug haftungsbeschraenkt",
    "haftungsbeschrankt",
    "haftungsbeschraenkt",
    "gmbh",
    "mbh",
    "ggmbh",
    "kgaa",
    "ag",
    "kg",
    "ohg",
    "gbr",
    "ug",
    "ev",
    "e v",
    "ek",
    "e k",
    "ekfr",
    "e kfr",
    "ekfm",
    "e kfm",
    "se",
    "partg",
    "partgmbb",
    "ltd",
    "inc",
    "llc",
    "co",
    "und co",
    "& co",
)
_LEGAL = re.compile(
    r"(?<!\w)(?:"
    + "|".join(re.escape(f).replace(r"\ ", r"\W*") for f in sorted(LEGAL_FORMS, key=len)[::-1])
    + r")(?!\w)"
)
_PHONE_CHARACTERS = re.compile(r"^[\d\s()+/.\-]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class WordTerm:
    """A word matched by trigram word similarity (typos, prefixes) against the text fields,
    and by full-text prefix against activity bodies. Alphanumeric only."""

    word: str


@dataclass(frozen=True)
class EmailTerm:
    """Part of an e-mail or web address, matched as a substring of the e-mail addresses and
    website domains (no typo)."""

    text: str


@dataclass(frozen=True)
class NumberTerm:
    """A phone number (digits ending with `national`) or an identifier containing
    `compact` (lower-case alphanumerics)."""

    national: str | None
    compact: str


Term = WordTerm | EmailTerm | NumberTerm


@dataclass(frozen=True)
class SearchQuery:
    """The terms a record must all match; none: nothing matches."""

    terms: tuple[Term, ...]


def _plain(text: str) -> str:
    """A Python fold for recognising words (legal forms), never for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def checked(text: str, field: str) -> str:
    """The query as a client may send it: not too long, no control characters."""
    if len(text) > MAX_QUERY_LENGTH:
        raise BadUserInput.single(field, f"must be at most {MAX_QUERY_LENGTH} characters")
    if _CONTROL.search(text):
        raise BadUserInput.single(field, "must not contain control characters")
    return text


def parse(text: str, field: str = "query") -> SearchQuery:
    """The terms of a query (BAD_USER_INPUT naming `field` for one no search can answer)."""
    text = checked(text, field).strip()
    number = _number_term(text)
    if number is not None:
        return SearchQuery((number,))
    terms: list[Term] = []
    addresses = [raw for raw in text.split() if _is_address(raw)]
    for raw in addresses:
        address = raw.strip(".,;:<>()[]\"'").lower()
        if "@" not in address:  # a website as its domain, as the records' are compared
            address = re.sub(r"^([a-z][a-z0-9+.-]*://)?(www\.)?", "", address).split("/")[0]
        if len(address) >= MIN_WORD_LENGTH + 1:
            terms.append(EmailTerm(address))
    words = _words(" ".join(raw for raw in text.split() if raw not in addresses))
    terms += [WordTerm(word) for word in dict.fromkeys(words)]
    if len(terms) > MAX_WORDS:
        raise BadUserInput.single(field, f"must have at most {MAX_WORDS} words")
    return SearchQuery(tuple(terms))


# A web address or a part of one as typed: "mueller-maschinen.de", "www.mueller.de/kontakt".
_WEB_ADDRESS = re.compile(
    r"^\W*([a-z][a-z0-9+.-]*://)?[^\W_][\w-]*(\.[\w-]+)*\.[^\W\d_]{2,}\b", re.IGNORECASE
)


def _is_address(raw: str) -> bool:
    """Part of an e-mail or web address: matched in the addresses only, as a substring. Plain
    words are not matched in e-mail addresses and websites: those repeat the names (a company
    Müller's `info@mueller-bau.de`), and in a large tenant every address with a common name in
    it was a candidate to rank (113,000 for "muller" at 500,000 contacts)."""
    return "@" in raw or bool(_WEB_ADDRESS.match(raw))


def _words(text: str) -> list[str]:
    """Alphanumeric words of at least MIN_WORD_LENGTH, legal forms left out unless the
    query has nothing else."""
    significant = _tokens(_LEGAL.sub(" ", _plain(text)))
    if not significant:
        return _tokens(text)
    # The significant words as typed (the database folds them), in the order typed.
    typed = _tokens(text)
    wanted = set(significant)
    return [word for word in typed if _plain(word) in wanted] or significant


def _tokens(text: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", text) if len(w) >= MIN_WORD_LENGTH]


def _number_term(text: str) -> NumberTerm | None:
    """A query of mostly digits: at least five, and at least half of its letters and digits
    ("+49 711 123456-0", "DE 123 456 789", "HRB 12345")."""
    compact = re.sub(r"[\W_]+", "", text).lower()
    digits = sum(c.isdigit() for c in compact)
    if digits < 5 or digits * 2 < len(compact):
        return None
    return NumberTerm(_national(text), compact)


def _national(text: str) -> str | None:
    """The national significant number of what looks like a phone number, else None."""
    if not _PHONE_CHARACTERS.match(text):
        return None
    try:
        parsed = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    national = str(parsed.national_number)
    return national if len(national) >= 5 else None
