"""What a person's data is and how it is scrubbed (declarations and pure functions, no I/O):
the values that identify a contact, the marker that replaces them in texts, and the two ways
an event's `changes` lose them.

- **Erased**: the events *about* an erased record (the contact's own, those of its activities
  that were erased with it) keep their keys and shape, ids and codes; every other value
  (names, e-mails, texts, dates) becomes the marker, a null stays null. A subscriber replaying
  them still sees what happened, when and by whom, never to whom.
- **Scrubbed**: any other text (another record's subject, an event of a shared activity, a
  stored response) keeps its words; only the person's values in it become the marker.
  `whole` values (the full name, e-mail addresses, phone numbers, the LinkedIn URL) are
  distinctive and are scrubbed across the tenant; `parts` (a first or last name alone) only
  in texts about the person, where "Anna" means them and not another Anna.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MARKER = "[erased]"
ERASED_EVENT = "crm.contact.erased"

LEXWARE_NOTICE = (
    "Lexware Office keeps its own copy of this person as a Lexware contact, with the vouchers "
    "booked to it: bookkeeping records must be retained for up to 10 years (§147 AO, §257 HGB). "
    "The CRM did not change or delete anything in Lexware Office; erase or archive the contact "
    "there once its retention period has passed."
)
NOT_LINKED_NOTICE = (
    "This person was not linked to a Lexware Office contact: the CRM sent nothing to Lexware "
    "about them that it would keep."
)

# Keys whose values stay in an erased event: ids and codes, no personal value.
_KEPT_KEYS = frozenset(
    {"status", "type", "role", "source", "isPrimary", "currency", "kind", "lostReason"}
)
# A name alone shorter than this is scrubbed only in texts about the person, never across
# the tenant (every "Li" of every other text would go).
MIN_WHOLE_NAME = 4
MIN_PHONE_DIGITS = 6


def _kept(key: str) -> bool:
    return key in _KEPT_KEYS or key.endswith(("Id", "Ids")) or key == "id"


def erase_values(value: Any) -> Any:
    """An erased event's `changes`: the shape kept, ids and codes kept, every other string
    (and date) the marker; numbers, booleans and nulls as they were."""
    if isinstance(value, dict):
        return {k: item if _kept(k) else erase_values(item) for k, item in value.items()}
    if isinstance(value, list):
        return [erase_values(item) for item in value]
    if isinstance(value, str):
        return MARKER
    return value


@dataclass(frozen=True)
class PersonalValues:
    """A contact's identifying values, as texts may hold them."""

    whole: tuple[str, ...]
    parts: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.whole, *self.parts)


def _clean(values: Iterable[str | None]) -> list[str]:
    found = []
    for value in values:
        text = " ".join((value or "").split())
        if text and text not in found:
            found.append(text)
    return found


def _phone_forms(phone: str) -> list[str]:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return [phone, digits] if len(digits) >= MIN_PHONE_DIGITS else [phone]


def personal_values(
    first_name: str | None,
    last_name: str,
    linkedin_url: str | None,
    emails: Sequence[str],
    phones: Sequence[str],
) -> PersonalValues:
    full = [f"{first_name} {last_name}", f"{last_name}, {first_name}"] if first_name else []
    whole = _clean(
        [*full, linkedin_url, *emails, *(form for p in phones for form in _phone_forms(p))]
    )
    parts = [name for name in _clean([first_name, last_name]) if name not in whole]
    if not first_name and len(last_name.strip()) >= MIN_WHOLE_NAME:
        # A last name alone is the whole name, unless it is too short to tell apart ("Li").
        whole, parts = _clean([last_name, *whole]), []
    return PersonalValues(tuple(whole), tuple(parts))


class Scrubber:
    """Replaces the values in texts, case-insensitively, as whole words (not inside a longer
    word), the longest first ("Anna Schmidt" before "Anna")."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = tuple(values)
        ordered = sorted(set(self.values), key=len, reverse=True)
        alternatives = "|".join(re.escape(value) for value in ordered)
        self._pattern = (
            re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if ordered else None
        )

    def text(self, value: str) -> str:
        return value if self._pattern is None else self._pattern.sub(MARKER, value)

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def json(self, value: Any) -> Any:
        """Every string in a JSON value (keys are API field names: left as they are)."""
        if isinstance(value, dict):
            return {k: self.json(item) for k, item in value.items()}
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self) -> Scrubber:
        """A scrubber for JSON documents as text (a stored response): the values as JSON
        writes them inside a string."""
        return Scrubber([json_string_body(value) for value in self.values])


def json_string_body(value: str) -> str:
    """How a JSON document (jsonb's text, a stored response) writes the string, quotes aside."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def like_patterns(values: Iterable[str]) -> list[str]:
    """ILIKE patterns finding each value inside a JSON document's text."""
    escaped = (json_string_body(v).replace("\\", "\\\\") for v in values)
    return ["%" + text.replace("%", "\\%").replace("_", "\\_") + "%" for text in escaped]


def clipped(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
