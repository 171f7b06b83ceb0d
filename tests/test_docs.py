"""The repository carries its own notes, and they name what is there.

- Every file or directory docs/ARCHITECTURE.md names exists (the tree, and any `x.py` in the
  text, by path or, for a bare file name, somewhere in the repository); a `path: name` names
  something defined in that file; a setting or constant in capitals exists in the code.
- A reference to one of its sections (the file's path, a comma and the section's title in
  double quotes) finds that heading.
- CONTRIBUTING.md likewise: every file it names exists (a `<placeholder>` in a path stands for
  any name: `app/services/<domain>/rules.py`), every `path: name` is defined there, every
  setting or constant in capitals exists, every link into README.md or docs/ARCHITECTURE.md
  finds its heading, and its setup commands are README's.
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
CONTRIBUTING = REPO_ROOT / "CONTRIBUTING.md"
README = REPO_ROOT / "README.md"
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


_PLACEHOLDER = re.compile(r"<[^<>`]+>")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)")


def _as_glob(span: str) -> str:
    """`app/services/<domain>/rules.py` -> `app/services/*/rules.py`: a file to be made, named by
    the folder it goes in."""
    return _PLACEHOLDER.sub("*", span)


def _defined(path: str, name: str) -> bool:
    """`name` (its last dotted part) is a word of `path`, from the root or from app/."""
    file = next((f for f in (REPO_ROOT / path, REPO_ROOT / "app" / path) if f.is_file()), None)
    source = "" if file is None else file.read_text(encoding="utf-8")
    return re.search(rf"\b{re.escape(name.rsplit('.', 1)[-1])}\b", source) is not None


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation out, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _without_blocks(path.read_text(encoding="utf-8"))
    return {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_contributing_guide_names_only_what_exists() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    prose = _SPAN.sub(
        lambda m: "" if re.search(r"://|^/", m.group(1)) else _as_glob(m.group(0)),
        _without_blocks(text),
    )
    named = {match.group(0) for match in _FILE_NAME.finditer(prose)}
    spans = [_as_glob(span) for span in _spans(text)]
    named.update(span for span in spans if span.startswith(_TOP_LEVEL) and " " not in span)
    missing = sorted(name for name in named if not all(map(_exists, _braces(name))))
    settings = {name.upper() for name in Settings.model_fields}
    undefined = []
    for span in spans:
        if defined := _DEFINED_IN.match(span):
            if not _defined(*defined.groups()):
                undefined.append(span)
        elif capitals := _CAPITALS.match(span):
            name, suffix = capitals.groups()
            if suffix == "*":
                known = any(setting.startswith(name) for setting in settings)
            else:
                known = name in settings or bool(re.search(rf"\b{name}\b", python_source()))
            if not known:
                undefined.append(span)
    assert len(named) > 40
    assert missing == []
    assert undefined == []


def test_the_contributing_guides_links_find_their_files_and_headings() -> None:
    links = _LINK.findall(_without_blocks(CONTRIBUTING.read_text(encoding="utf-8")))
    assert links
    broken = [
        f"{target}#{anchor}"
        for target, anchor in links
        if not (REPO_ROOT / target).exists()
        or (anchor and anchor not in _anchors(REPO_ROOT / target))
    ]
    assert broken == []


def test_the_contributing_guides_setup_commands_are_readmes() -> None:
    """The guide repeats README's commands; when README's change, so must the guide's."""
    setup = CONTRIBUTING.read_text(encoding="utf-8").split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [
        line.strip()
        for block in re.findall(r"^```bash\n(.*?)^```", setup, flags=re.S | re.M)
        for line in block.splitlines()
        if line.strip()
    ]
    readme = README.read_text(encoding="utf-8")
    assert commands
    assert [command for command in commands if command not in readme] == []


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
