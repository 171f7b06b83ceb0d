"""The code gates that are part of the test command: schema drift, ruff, mypy, and the import
contracts (pyproject.toml's [tool.importlinter]: who may import whom)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the tree at `root`, with the contracts of its pyproject.toml."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[dev]'"
    command = [str(lint_imports), "--no-cache", "--no-logo"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_import_contracts() -> None:
    result = _lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_contracts_see_an_import_inside_a_function(tmp_path: Path) -> None:
    """Not a contract that nothing can break: a copy of the tree whose ASGI app imports the fake
    Lexware lazily, inside a function, breaks the contract that keeps tooling out of app/."""
    for package in ("app", "models", "resolvers", "jobs", "fake_lexware", "bench"):
        ignored = shutil.ignore_patterns("__pycache__", ".tools")
        shutil.copytree(REPO_ROOT / package, tmp_path / package, ignore=ignored)
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    asgi = tmp_path / "app" / "web" / "asgi.py"
    lazy = "\n\ndef fake_routes() -> None:\n    from fake_lexware.server import create_fake_app\n"
    asgi.write_text(asgi.read_text() + lazy)
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "The runtime never imports the test and benchmark tooling BROKEN" in result.stdout
    assert "app.web.asgi -> fake_lexware.server" in result.stdout
