"""Tags compare ignoring case, deals remember their open stage, users can wait for sign-in

- `tag_keys`: the keys of a company's or contact's tags, `NFC(casefold(NFD(tag)))` each
  (app.services.common.tags.tag_key: `Straße` = `STRASSE`, `ΣΟΦΟΣ` = `σοφος`), written by the
  server with the tags; tag filters and the ERP rule match `tag_keys @> ARRAY[:key]`, with a
  GIN index on it. A plain column, not one PostgreSQL generates: its `lower()` depends on the
  database's locale and folds Greek, Turkish and `ß` otherwise than Python, and a function
  of ours in a generated column needs EXECUTE for `crm_tenant` on hardened databases. The
  check `cardinality(tag_keys) = cardinality(tags)` (a key per tag) refuses a write that
  sets tags without their keys. Existing rows are keyed here, in Python, by the same fold
  (SQL `lower()` would not give the server's keys); tags that are one tag by that key on one
  record are merged (the first spelling stays), as every write does now; that is no edit
  (version and updated_at stay, nothing is pushed to Lexware again). Both tables are locked
  (ADD COLUMN) until the keys are written. The GIN indexes on the raw `tags` served only the
  case-sensitive `tags @>` and go.
- `deal.last_open_stage_id`: the open stage a WON/LOST deal was in when it closed, where
  reopening returns it. Deals closed before this revision have none (first open stage).
- `user.subject` may be NULL: a user an admin added by e-mail who has not signed in yet;
  `signed_in_at` is the first sign-in (existing users: when they were created). At most one
  such waiting user per e-mail in a tenant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGGED = ("company", "contact")
BATCH = 1000  # rows keyed per round trip


def _tag_key(tag: str) -> str:
    """app.services.common.tags.tag_key as of this revision (a migration keeps its own copy)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", tag).casefold())


def _merged(tags: list[str]) -> dict[str, str]:
    """Key -> the first spelling of each tag, in the order given."""
    first: dict[str, str] = {}
    for tag in tags:
        first.setdefault(_tag_key(tag), tag)
    return first


def _key_existing_tags(table: str) -> None:
    connection = op.get_bind()
    select = sa.text(
        f'SELECT id, tags FROM "{table}" WHERE cardinality(tags) > 0 AND id > :after '
        "ORDER BY id LIMIT :batch"
    )
    update = sa.text(f'UPDATE "{table}" SET tags = :tags, tag_keys = :keys WHERE id = :id')
    after = uuid.UUID(int=0)
    while rows := connection.execute(select, {"after": after, "batch": BATCH}).all():
        keyed = [_merged(list(row.tags)) for row in rows]
        connection.execute(
            update,
            [
                {"id": row.id, "tags": list(tags.values()), "keys": list(tags)}
                for row, tags in zip(rows, keyed, strict=True)
            ],
        )
        after = rows[-1].id


def upgrade() -> None:
    for table in TAGGED:
        op.add_column(table, sa.Column(
            "tag_keys", postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"), nullable=False,
        ))  # fmt: skip
        _key_existing_tags(table)
        op.create_check_constraint(
            op.f(f"ck_{table}_tag_keys"), table, "cardinality(tag_keys) = cardinality(tags)"
        )
    op.add_column("deal", sa.Column("last_open_stage_id", sa.Uuid(), nullable=True))
    op.add_column(
        "user", sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute('UPDATE "user" SET signed_in_at = created_at')
    op.alter_column("user", "subject", existing_type=sa.String(length=255), nullable=True)
    op.create_check_constraint(
        op.f("ck_user_signed_in"), "user", "(subject IS NULL) = (signed_in_at IS NULL)"
    )
    op.create_check_constraint(
        op.f("ck_user_reachable"), "user", "subject IS NOT NULL OR email IS NOT NULL"
    )
    op.create_index(
        "uq_user_tenant_id_waiting_email", "user",
        ["tenant_id", sa.literal_column("lower(email)")], unique=True,
        postgresql_where=sa.text("subject IS NULL"),
    )  # fmt: skip
    # CONCURRENTLY: the tables stay writable while an index builds (as in 0004).
    with op.get_context().autocommit_block():
        for table in TAGGED:
            op.create_index(
                f"ix_{table}_tag_keys", table, ["tag_keys"], postgresql_using="gin",
                postgresql_concurrently=True,
            )  # fmt: skip
            op.drop_index(
                f"ix_{table}_tags", table_name=table, postgresql_concurrently=True
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for table in TAGGED:
            op.create_index(
                f"ix_{table}_tags", table, ["tags"], postgresql_using="gin",
                postgresql_concurrently=True,
            )  # fmt: skip
            op.drop_index(
                f"ix_{table}_tag_keys", table_name=table, postgresql_concurrently=True
            )
    op.drop_index("uq_user_tenant_id_waiting_email", table_name="user")
    op.drop_constraint(op.f("ck_user_reachable"), "user", type_="check")
    op.drop_constraint(op.f("ck_user_signed_in"), "user", type_="check")
    # Users who never signed in cannot exist without a subject: they go, with their owner
    # rows (cascade); activities assigned to them lose the assignee (SET NULL).
    op.execute('DELETE FROM "user" WHERE subject IS NULL')
    op.alter_column("user", "subject", existing_type=sa.String(length=255), nullable=False)
    op.drop_column("user", "signed_in_at")
    op.drop_column("deal", "last_open_stage_id")
    for table in TAGGED:
        op.drop_constraint(op.f(f"ck_{table}_tag_keys"), table, type_="check")
        op.drop_column(table, "tag_keys")
