"""Duplicates: phones' E.164 form, companies' name key, the `duplicate_key` view and its indexes

- `contact_phone.e164`: the number in E.164 (`phonenumbers`, region DE), NULL when it cannot
  be read as one; written by the services with every phone, backfilled here in batches
  (Python: the same function the services call), indexed by (tenant_id, e164).
- `crm_name_key(text)`: a name as duplicates compare it: `crm_fold` (case, accents, ä/ae,
  ß/ss), punctuation to spaces, legal forms (search's list, app/services/search/rules.py)
  off: "Müller Maschinenbau GmbH & Co. KG" and "Mueller-Maschinenbau" are both
  `muller maschinenbau`. Stored as `company.dedupe_name` (generated), trigram-indexed (the
  similar-name rule) and in btree (tenant, name key and postcode).
- `duplicate_key`: a plain view owned by the tables' owner, one branch per (kind, rule), each
  reading its table with `tenant_id = app.tenant_id` of the transaction, as `search_entry`
  does (migration 0014): under row-level security `lower()`, `crm_domain()` and the trigram
  operators are not leakproof and could be no index condition; through the view they are.
  `key` is what a rule compares (equality; the trigram similarity for SIMILAR_NAME), `value`
  what the record holds, as shown.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.data.rights import grant_tenant_view
from app.services.contact_info.rules import phone_e164
from app.services.search.rules import LEGAL_FORMS

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"
# Legal forms as words after punctuation became spaces ("gmbh & co kg" -> "gmbh co kg").
_FORMS = sorted(
    {" ".join("".join(c if c.isalnum() else " " for c in f).split()) for f in LEGAL_FORMS},
    key=len,
    reverse=True,
)
# Each form as whole words; PostgreSQL's regular expressions take the longest alternative.
_NAME_KEY = (
    "btrim(regexp_replace(regexp_replace("
    "' ' || regexp_replace(crm_fold($1), '[^a-z0-9]+', ' ', 'g') || ' ', "
    f"' ({'|'.join(_FORMS)})(?= )', '', 'g'), ' +', ' ', 'g'))"
)
NAME_KEY = "crm_name_key(text)"
POSTCODE_KEY = "(dedupe_name || ' ' || (billing_address ->> 'zip'))"
PERSON = "crm_person(first_name, last_name)"
COMPANY_OF_PERSON = "(search_name || ' ' || company_id::text)"

# (kind, rule, table, record, value as shown, key compared)
BRANCHES = (
    ("company", "VAT_ID", "company", "id", "vat_id", "vat_id"),
    ("company", "EMAIL", "contact_email", "company_id", "email", "lower(email)"),
    ("company", "PHONE", "contact_phone", "company_id", "phone", "e164"),
    ("company", "WEBSITE_DOMAIN", "company", "id", "website", "crm_domain(website)"),
    (
        "company", "NAME_AND_POSTCODE", "company", "id",
        "name || ', ' || (billing_address ->> 'zip')", POSTCODE_KEY,
    ),
    ("company", "SIMILAR_NAME", "company", "id", "name", "dedupe_name"),
    ("contact", "EMAIL", "contact_email", "contact_id", "email", "lower(email)"),
    ("contact", "PHONE", "contact_phone", "contact_id", "phone", "e164"),
    ("contact", "SIMILAR_NAME", "contact", "id", PERSON, "search_name"),
    ("contact", "NAME_AND_COMPANY", "contact", "id", PERSON, COMPANY_OF_PERSON),
)  # fmt: skip

# A phone's (and a company's e-mail's) key per kind of owner: the report reads a kind's keys
# in order, and each index holds only that kind's rows (a tenant's contacts have ten times
# its companies' phones).
INDEXES = {
    "ix_contact_phone_company_e164": (
        "contact_phone USING btree (tenant_id, e164) WHERE company_id IS NOT NULL"
    ),
    "ix_contact_phone_contact_e164": (
        "contact_phone USING btree (tenant_id, e164) WHERE contact_id IS NOT NULL"
    ),
    "ix_contact_email_company_value": (
        "contact_email USING btree (tenant_id, lower(email)) WHERE company_id IS NOT NULL"
    ),
    "ix_company_tenant_id_dedupe_name": "company USING btree (tenant_id, dedupe_name)",
    "ix_contact_tenant_id_search_name": "contact USING btree (tenant_id, search_name)",
    "ix_company_dedupe_name": "company USING gin (dedupe_name gin_trgm_ops)",
    "ix_company_tenant_id_name_postcode": f"company USING btree (tenant_id, {POSTCODE_KEY})",
    "ix_company_tenant_id_domain": "company USING btree (tenant_id, crm_domain(website))",
    "ix_contact_tenant_id_name_company": f"contact USING btree (tenant_id, {COMPANY_OF_PERSON})",
}
BATCH = 5000


def _live(kind: str, table: str, record: str) -> str:
    """The record is not in the trash (0015): a trashed record is no candidate and half of no
    pair; its e-mails and phones count again when it is restored."""
    if record == "id":
        return "AND deleted_at IS NULL "
    return (
        f"AND EXISTS (SELECT 1 FROM {kind} live WHERE live.id = {table}.{record} "
        f"AND live.tenant_id = {table}.tenant_id AND live.deleted_at IS NULL) "
    )


def _branch(kind: str, rule: str, table: str, record: str, value: str, key: str) -> str:
    owner = f"AND {record} IS NOT NULL " if record != "id" else ""
    owner += _live(kind, table, record)
    return (
        f"SELECT tenant_id, '{kind}'::text AS kind, '{rule}'::text AS rule, {record} AS record_id, "
        f"({value})::text AS value, ({key})::text AS key FROM {table} "
        f"WHERE tenant_id = {CURRENT_TENANT} {owner}AND ({key}) <> ''"
    )


VIEW = "CREATE VIEW duplicate_key AS\n" + "\nUNION ALL\n".join(_branch(*b) for b in BRANCHES)


def _backfill_e164() -> None:
    """Every stored phone's E.164 form, in batches by id (the owner sees every tenant's rows:
    row-level security is not forced)."""
    bind = op.get_bind()
    last = None
    while True:
        after = "" if last is None else "WHERE id > :last"
        rows = bind.execute(
            sa.text(f"SELECT id, phone FROM contact_phone {after} ORDER BY id LIMIT {BATCH}"),
            {"last": last},
        ).all()
        if not rows:
            return
        found = [(row.id, phone_e164(row.phone)) for row in rows]
        ids = [row_id for row_id, e164 in found if e164 is not None]
        numbers = [e164 for _, e164 in found if e164 is not None]
        if ids:
            bind.execute(
                sa.text(
                    "UPDATE contact_phone SET e164 = v.e164 FROM "
                    "unnest(CAST(:ids AS uuid[]), CAST(:numbers AS text[])) AS v(id, e164) "
                    "WHERE contact_phone.id = v.id"
                ),
                {"ids": ids, "numbers": numbers},
            )
        last = rows[-1].id


def upgrade() -> None:
    op.execute("ALTER TABLE contact_phone ADD COLUMN e164 varchar(20)")
    _backfill_e164()
    op.execute(
        f"CREATE FUNCTION {NAME_KEY} RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE "
        f"STRICT COST 200 AS $$ BEGIN RETURN {_NAME_KEY}; END $$"
    )
    op.execute(
        "ALTER TABLE company ADD COLUMN dedupe_name text "
        "GENERATED ALWAYS AS (crm_name_key(name)) STORED"
    )
    op.execute(VIEW)
    grant_tenant_view(op.execute, "duplicate_key", functions=(NAME_KEY,))
    with op.get_context().autocommit_block():
        for name, definition in INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
    # The new columns' and expression indexes' statistics (see 0015).
    op.execute("ANALYZE company, contact, contact_email, contact_phone")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP VIEW duplicate_key")
    op.execute("ALTER TABLE company DROP COLUMN dedupe_name")
    op.execute(f"DROP FUNCTION {NAME_KEY}")
    op.execute("ALTER TABLE contact_phone DROP COLUMN e164")
