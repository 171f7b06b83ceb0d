"""The code gates that are part of the test command: schema drift, ruff, mypy."""

from __future__ import annotations

import subprocess
import sys

from resolvers.schema import schema_sdl
from tests.conftest import REPO_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_schema_graphql_matches_the_code() -> None:
    exported = (REPO_ROOT / "schema.graphql").read_text()
    assert exported == schema_sdl(), "schema.graphql is stale: run `insight-crm export-schema`"


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
