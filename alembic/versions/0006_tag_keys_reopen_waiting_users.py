"""Tags compare case-insensitively, deals remember their open stage, users can wait for sign-in

- `tag_keys`: a company's or contact's tags lowercased, a stored column PostgreSQL generates
  with `crm_tag_keys(tags)` (IMMUTABLE, as generated columns need); tag filters and the ERP
  rule match `tag_keys @> ARRAY[lower(:tag)]`, with a GIN index on it. The GIN indexes on the
  raw `tags` served only the case-sensitive `tags @>` and go. Adding the column rewrites both
  tables once (under an exclusive lock). Tags that differ only in case on one record are
  merged (the first spelling stays), as every write does now; that is no edit (version and
  updated_at stay, nothing is pushed to Lexware again).
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

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGGED = ("company", "contact")
# The body is parsed at creation (SQL-standard RETURN): no search_path applies later.
_TAG_KEYS = """
CREATE FUNCTION crm_tag_keys(tags varchar[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(SELECT lower(tag) FROM unnest(tags) AS tag)"""
# The first spelling of each tag, in the order given; only rows with such duplicates change.
_MERGE_TAGS = """
UPDATE "{table}" AS t SET tags = ARRAY(
    SELECT first.tag FROM (
        SELECT DISTINCT ON (lower(u.tag)) u.tag, u.n
        FROM unnest(t.tags) WITH ORDINALITY AS u(tag, n)
        ORDER BY lower(u.tag), u.n
    ) AS first ORDER BY first.n)
WHERE cardinality(t.tags) > (SELECT count(DISTINCT lower(tag)) FROM unnest(t.tags) AS tag)"""


def upgrade() -> None:
    op.execute(_TAG_KEYS)
    for table in TAGGED:
        op.execute(_MERGE_TAGS.format(table=table))
        op.add_column(table, sa.Column(
            "tag_keys", postgresql.ARRAY(sa.Text()),
            sa.Computed("crm_tag_keys(tags)", persisted=True), nullable=False,
        ))  # fmt: skip
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
        op.drop_column(table, "tag_keys")
    op.execute("DROP FUNCTION crm_tag_keys(varchar[])")
