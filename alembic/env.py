"""Alembic environment: async engine, our metadata, one migrator at a time."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models
from app.data.engine import async_url
from app.data.rights import SERVING_ROLE_CHECK, join_role_sql, serving_role_problems
from models.roles import SYSTEM_ROLE, TENANT_ROLE
from models.search import not_a_view

# Two processes starting at once must not both migrate: hold an advisory lock.
MIGRATION_LOCK_ID = 7_042_311

config = context.config
target_metadata = models.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from app.settings import load_settings

        url = load_settings().database_url
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL or use `insight-crm migrate`")
    return async_url(url)


def _run(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    # The lock is the session's: end the transaction that took it, so that alembic owns the
    # migrations' transaction (an index built CONCURRENTLY steps out of it, autocommit_block).
    connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_server_default=True,
            include_object=not_a_view,
            # `upgrade_to_head` passes a callback to learn which revisions ran.
            on_version_apply=config.attributes.get("on_version_apply"),
        )
        with context.begin_transaction():
            context.run_migrations()
        _let_the_server_switch(connection, config.attributes.get("serving_role"))
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()


def _let_the_server_switch(connection: Connection, serving_role: str | None) -> None:
    """The role the server logs in as (app.migrations) becomes a member of the roles it
    switches to, inheriting none of their rights (app.data.rights)."""
    if not serving_role:
        return
    for role in (TENANT_ROLE, SYSTEM_ROLE):
        connection.execute(text(join_role_sql(role, serving_role)))
    connection.commit()
    found = connection.execute(text(SERVING_ROLE_CHECK), {"role": serving_role}).one()
    connection.commit()
    problems = config.attributes.get("serving_problems")
    if problems is not None:
        problems.extend(serving_role_problems(serving_role, *found))


async def _run_online() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
