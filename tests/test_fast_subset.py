"""The inner loop's list of slow tests (tests/slow.py) names only what exists: a module renamed
or a test removed would otherwise drop out of the list unseen, and slow the inner loop down."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT
from tests.slow import SLOW, is_slow


def test_each_slow_entry_names_a_module_or_test_that_exists() -> None:
    missing = []
    for entry in SLOW:
        path, _, name = entry.partition("::")
        module = REPO_ROOT / path
        defined = rf"^(?:async )?def {re.escape(name)}\("
        if not module.is_file() or (name and not re.search(defined, module.read_text(), re.M)):
            missing.append(entry)
    assert missing == [], f"tests/slow.py names what is gone: {missing}"


def test_an_entry_marks_its_module_or_its_test_with_every_parameter() -> None:
    assert is_slow("tests/test_cli.py::test_anything")
    assert is_slow("tests/test_auth.py::test_a_token_verified_before_still_expires")
    assert is_slow("tests/test_ws_auth.py::test_the_socket_closes_when_the_token_expires[x]")
    assert not is_slow("tests/test_auth.py::test_a_token_verified_before_still_expires_later")
    assert not is_slow("tests/test_cli_more.py::test_anything")
