"""The pure rules of the erasure (app/services/privacy/rules.py): which values a person has,
and how texts and events lose them."""

from __future__ import annotations

from app.services.privacy.rules import (
    MARKER,
    Scrubber,
    erase_values,
    like_patterns,
    personal_values,
)


def test_a_persons_values_are_whole_or_parts() -> None:
    values = personal_values(
        "Anna", "Schmidt", "https://www.linkedin.com/in/anna", ["a@x.de"], ["+49 711 123456"]
    )
    assert values.whole == (
        "Anna Schmidt",
        "Schmidt, Anna",
        "https://www.linkedin.com/in/anna",
        "a@x.de",
        "+49 711 123456",
        "49711123456",  # the digits alone, as a text may write them
    )
    assert values.parts == ("Anna", "Schmidt")
    alone = personal_values(None, "Oelschläger", None, [], [])
    assert (alone.whole, alone.parts) == (("Oelschläger",), ())
    short = personal_values(None, "Li", None, [], [])  # never scrubbed across the tenant
    assert (short.whole, short.parts) == ((), ("Li",))


def test_the_scrubber_replaces_whole_words_ignoring_case_longest_first() -> None:
    scrubber = Scrubber(["Anna", "Anna Schmidt", "a@x.de"])
    assert scrubber.text("Call ANNA SCHMIDT, then anna at A@X.DE.") == (
        f"Call {MARKER}, then {MARKER} at {MARKER}."
    )
    assert scrubber.text("Annaberg and Hannah stay") == "Annaberg and Hannah stay"
    assert scrubber.json({"subject": ["x", "Anna"], "n": 3, "ok": None}) == {
        "subject": ["x", MARKER],
        "n": 3,
        "ok": None,
    }


def test_values_are_found_as_json_writes_them() -> None:
    assert like_patterns(['O"Brien_%']) == ['%O\\\\"Brien\\_\\%%']
    assert Scrubber(['O"Brien']).json_text().text('{"lastName":"O\\"Brien"}') == (
        f'{{"lastName":"{MARKER}"}}'
    )


def test_an_erased_event_keeps_its_shape_ids_and_codes() -> None:
    changes = {
        "firstName": [None, "Anna"],
        "companyId": [None, "c1"],
        "status": ["ACTIVE", "INACTIVE"],
        "birthday": [None, "1980-02-29"],
        "emails": [[], [{"email": "a@x.de", "type": "WORK", "isPrimary": True}]],
        "owners": [None, [{"userId": "u1", "role": "OWNER"}]],
    }
    assert erase_values(changes) == {
        "firstName": [None, MARKER],
        "companyId": [None, "c1"],
        "status": ["ACTIVE", "INACTIVE"],
        "birthday": [None, MARKER],
        "emails": [[], [{"email": MARKER, "type": "WORK", "isPrimary": True}]],
        "owners": [None, [{"userId": "u1", "role": "OWNER"}]],
    }
