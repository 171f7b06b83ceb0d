"""Run alembic migrations from code (the `migrate` command, `serve`, and the tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> list[str]:
    """Blocking; runs its own event loop (call it from a thread inside async code). Returns
    the revisions it applied, oldest first (none: the schema was up to date)."""
    applied: list[str] = []

    def note(*, step: Any, **_: Any) -> None:
        applied.extend(step.up_revision_ids)

    config = alembic_config(database_url)
    config.attributes["on_version_apply"] = note
    command.upgrade(config, "head")
    return applied
