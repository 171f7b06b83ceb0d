"""requirements.lock pins what pyproject.toml allows: every dependency (runtime and dev) is
pinned there, exactly, and inside its range. CI and the Dockerfile install with it as pip's
constraints, so a dependency added or a range moved without locking again fails here."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO_ROOT

LOCK = REPO_ROOT / "requirements.lock"
RELOCK = (
    "run `.venv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 "
    "-o requirements.lock` (README, 'Dependencies and the lock file')"
)
# `name==version`, maybe with environment markers after `;`; comments and `# via` lines aside.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;.*)?$")


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    texts = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(text) for text in texts]


def locked(text: str) -> dict[str, list[Version]]:
    """Each package's pins (more than one where markers fork the resolution)."""
    pins: dict[str, list[Version]] = defaultdict(list)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _PIN.match(stripped)
        assert match, f"requirements.lock: {stripped!r} is not an exact pin; {RELOCK}"
        pins[canonicalize_name(match[1])].append(Version(match[2]))
    return pins


def drift(requirements: list[Requirement], pins: dict[str, list[Version]]) -> list[str]:
    """What pyproject.toml asks for that the lock does not pin, or pins outside the range."""
    found = []
    for requirement in requirements:
        versions = pins.get(canonicalize_name(requirement.name))
        if not versions:
            found.append(f"{requirement.name} is not pinned")
        for version in versions or []:
            if not requirement.specifier.contains(version, prereleases=True):
                found.append(f"{requirement.name}=={version} is outside {requirement}")
    return found


def test_the_lock_pins_every_dependency_inside_its_range() -> None:
    problems = drift(declared(), locked(LOCK.read_text()))
    assert not problems, f"requirements.lock drifted from pyproject.toml: {problems}; {RELOCK}"


def test_drift_is_found_both_ways() -> None:
    """The check itself: a missing pin and a pin outside its range are both reported."""
    requirements = [Requirement("sqlalchemy[asyncio]>=2.1.9,<2.2"), Requirement("ruff>=0.9,<1")]
    pins = locked("SQLAlchemy==2.2.0\n    # via insight-crm (pyproject.toml)\n")
    assert drift(requirements, pins) == [
        "sqlalchemy==2.2.0 is outside sqlalchemy[asyncio]<2.2,>=2.1.9",
        "ruff is not pinned",
    ]
