"""Run alembic migrations from code (the `migrate` command, `serve`, and the tests)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(
    database_url: str, serving_url: str | None = None, problems: list[str] | None = None
) -> list[str]:
    """Blocking; runs its own event loop (call it from a thread inside async code). Returns
    the revisions it applied, oldest first (none: the schema was up to date).

    `database_url` is the tables' owner's; `serving_url` the role the server logs in as,
    which is made a member of `crm_tenant` and `crm_system` (switching to them, inheriting
    nothing) after every upgrade: it is a setting, and may change without a new revision.
    What that role may still do without a switch goes into `problems` (app.data.rights)."""
    applied: list[str] = []

    def note(*, step: Any, **_: Any) -> None:
        applied.extend(step.up_revision_ids)

    config = alembic_config(database_url)
    config.attributes["on_version_apply"] = note
    config.attributes["serving_problems"] = problems
    if serving_url is not None and login_role(serving_url) != login_role(database_url):
        config.attributes["serving_role"] = login_role(serving_url)
    command.upgrade(config, "head")
    return applied


def login_role(url: str) -> str:
    """The user a database URL logs in as (libpq's and asyncpg's default: the system user)."""
    return make_url(url).username or getpass.getuser()
