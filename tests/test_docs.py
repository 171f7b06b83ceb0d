"""The repository carries its own notes, and they name what is there.

- Every file or directory docs/ARCHITECTURE.md names exists (the tree, and any `x.py` in the
  text, by path or, for a bare file name, somewhere in the repository); a `path: name` names
  something defined in that file; a setting or constant in capitals exists in the code.
- A reference to one of its sections (the file's path, a comma and the section's title in
  double quotes) finds that heading.
- Nothing in the repository points at notes outside it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from app.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = REPO_ROOT / "docs" / "ARCHITECTURE.md"
# What lives in a checkout but is no part of the repository.
_SKIPPED_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_SKIPPED_DIRS |= {".insight-crm", ".tools", "node_modules", "dist", "build"}
# Named by the notes, made at run time (git-ignored).
_MADE_AT_RUN_TIME = {"bench/.tools/"}
_FILE_NAME = re.compile(
    r"[\w.*{},/-]*\w\.(?:py|md|html|toml|yaml|yml|sh|lua|json|css|js|mako)(?![\w.])"
)
_SPAN = re.compile(r"`([^`]+)`")
_DEFINED_IN = re.compile(r"^([\w./-]+\.py): ([\w.]+)$")
_CAPITALS = re.compile(r"^([A-Z][A-Z0-9_]*[A-Z0-9])(\*|=\S+)?$")
_TREE_ENTRY = re.compile(r"[\w.-]+(?:/[\w.-]+)*/?(?:, [\w.-]+(?:/[\w.-]+)*/?)*")
_TOP_LEVEL = ("app/", "resolvers/", "models/", "jobs/", "tests/", "bench/", "alembic/", "docs/")
_TOP_LEVEL += ("fake_lexware/",)


@functools.cache
def repository_files() -> tuple[str, ...]:
    found: list[str] = []
    for path in REPO_ROOT.rglob("*"):
        relative = path.relative_to(REPO_ROOT)
        if path.is_file() and not _SKIPPED_DIRS.intersection(relative.parts[:-1]):
            found.append(relative.as_posix())
    return tuple(sorted(found))


@functools.cache
def python_source() -> str:
    return "\n".join(
        (REPO_ROOT / name).read_text(encoding="utf-8")
        for name in repository_files()
        if name.endswith(".py")
    )


def _braces(name: str) -> list[str]:
    """`deals/{types,inputs}.py` -> `deals/types.py`, `deals/inputs.py`."""
    match = re.search(r"\{([^{}]*)\}", name)
    if match is None:
        return [name]
    start, end = match.span()
    return [
        n for part in match.group(1).split(",") for n in _braces(name[:start] + part + name[end:])
    ]


def _exists(name: str) -> bool:
    """A path from the root, or a bare (or partial) path anywhere in the repository."""
    name = name.rstrip("/")
    files = repository_files()
    directories = {"/".join(f.split("/")[:i]) for f in files for i in range(1, f.count("/") + 1)}
    if "*" in name:
        return any(fnmatch.fnmatch(f, name) or fnmatch.fnmatch(f, "*/" + name) for f in files)
    everything = set(files) | directories
    return name in everything or any(f.endswith("/" + name) for f in everything)


def _without_blocks(text: str) -> str:
    """The prose: code blocks (``` fences) out, so that their backticks pair with nothing."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _spans(text: str) -> Iterator[str]:
    for match in _SPAN.finditer(_without_blocks(text)):
        yield " ".join(match.group(1).split())


def _tree(text: str) -> str:
    """The tree of section 2 (a code block)."""
    return text.split("## 2. The tree", 1)[1].split("```")[1]


def _tree_paths(text: str) -> Iterator[str]:
    """The tree's entries: top-level ones, and those indented under them."""
    parent = ""
    for line in _tree(text).splitlines()[1:]:
        indent = len(line) - len(line.lstrip())
        names = _TREE_ENTRY.match(line.strip())
        if names is None:
            continue
        for name in names.group(0).split(", "):
            if indent == 0:
                parent = name if name.endswith("/") else ""
                yield name
            elif indent == 2:
                yield parent + name


def test_the_architecture_notes_name_only_files_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(_tree_paths(text))
    prose = _SPAN.sub(
        lambda m: "" if re.search(r"<|://|^/", m.group(1)) else m.group(0), _without_blocks(text)
    )
    for part in (prose, _tree(text)):  # in the tree, also the files its descriptions name
        named.update(match.group(0) for match in _FILE_NAME.finditer(part))
    named.update(span for span in _spans(text) if span.startswith(_TOP_LEVEL) and " " not in span)
    assert len(named) > 80
    missing = [
        name
        for name in sorted(named - _MADE_AT_RUN_TIME)
        if not all(_exists(expanded) for expanded in _braces(name))
    ]
    assert missing == []


def test_the_architecture_notes_name_only_what_the_code_defines() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    settings = {name.upper() for name in Settings.model_fields}
    unknown: list[str] = []
    for span in _spans(text):
        if defined := _DEFINED_IN.match(span):
            path, name = defined.groups()
            # From the root, or `services/x.py` as the notes write app/services/x.py.
            file = next(
                (f for f in (REPO_ROOT / path, REPO_ROOT / "app" / path) if f.exists()), None
            )
            source = "" if file is None else file.read_text(encoding="utf-8")
            if not re.search(rf"\b{re.escape(name.rsplit('.', 1)[-1])}\b", source):
                unknown.append(span)
        elif capitals := _CAPITALS.match(span):
            name, suffix = capitals.groups()
            if suffix == "*":
                known = any(setting.startswith(name) for setting in settings)
            else:
                known = name in settings or re.search(rf"\b{name}\b", python_source())
            if not known:
                unknown.append(span)
    assert unknown == []


def _headings() -> set[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return {
        re.sub(r"^\d+\.\s+", "", line.lstrip("#").strip())
        for line in text.splitlines()
        if line.startswith("#")
    }


def test_references_to_the_architecture_notes_find_their_section() -> None:
    headings = _headings()
    reference = re.compile(r'docs/ARCHITECTURE\.md, (?:section )?"([^"]+)"')
    found: list[tuple[str, str]] = []
    for name in repository_files():
        if name.endswith((".py", ".md", ".toml", ".yaml")):
            text = " ".join((REPO_ROOT / name).read_text(encoding="utf-8").split())
            found += [(name, title) for title in reference.findall(text)]
    assert found
    assert [(name, title) for name, title in found if title not in headings] == []


def test_nothing_points_at_notes_outside_the_repository() -> None:
    # Spelled in pieces, so that this file does not find itself.
    outside = re.compile("|".join(("/" + "work/", r"\.\./" + "shared", "DESIGN" + r"\.md")))
    outside_too = re.compile("lexware-api" + r"\.md|DESIGN" + " §")
    pointing = []
    for name in repository_files():
        if name.startswith("app/web/static/") or not name.endswith(
            (".py", ".md", ".toml", ".yaml", ".graphql", ".cfg", ".ini", ".sh", ".mako")
        ):
            continue
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        pointing += [
            f"{name}: {m.group(0)}" for m in (*outside.finditer(text), *outside_too.finditer(text))
        ]
    assert pointing == []
