"""Search: pg_trgm, the folding functions, trigram and full-text indexes, the `search_entry` view

- `CREATE EXTENSION IF NOT EXISTS pg_trgm`: a trusted extension (PostgreSQL 13+), so the
  owner of the database may create it; otherwise a superuser creates it first (README).
- `crm_fold(text)`: lower case, accents off, ä/ae -> a, ö/oe -> o, ü/ue -> u (not in "que"),
  ß -> ss (Lucene's German normalization), so "Müller" = "Mueller" = "muller". Accents come
  off by Unicode decomposition (`normalize(NFD)`, a UTF8 database) before `lower()`, which
  then sees ASCII: under the `C` locale `lower('Ü')` is 'Ü'. The letters that do not
  decompose (ß, ł, ø, đ) are replaced in both cases. About 10 µs a value (a table of
  accented letters in `translate` took 60). `crm_compact` (identifiers: lower-case alphanumerics), `crm_digits`
  (phones), `crm_domain` (a website's host without `www.`), `crm_person` (a contact's name),
  `crm_words` (tags). All IMMUTABLE PL/pgSQL with a COST (`_function`): an index on
  `crm_fold(name)` serves a condition on the view's `folded`, and the planner knows that
  folding every row of a tenant costs more than reading the index.
- One GIN index per searched value (trigram; full text for an activity's body).
- `search_entry`: a plain view (not `security_barrier`) owned by the tables' owner, each
  branch with `tenant_id = app.tenant_id` of the transaction (nothing without one). The view
  reads the tables with its owner's rights (row-level security is not forced), so the
  planner may use the trigram indexes, which it may not under the policies (the trigram and
  full-text operators are not leakproof). `crm_tenant` may SELECT the view and nothing else
  of it; the app's tenant filter applies to it as to every table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from app.data.rights import grant_tenant_view

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Letters that do not decompose into a base letter and accents (upper and lower case, as the
# database's locale may lower ASCII only), and what they fold to.
_UNDECOMPOSED = {"ß": "ss", "ẞ": "ss", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d"}
_UNDECOMPOSED_SQL = "{}"
for _letter, _plain in _UNDECOMPOSED.items():
    _UNDECOMPOSED_SQL = f"replace({_UNDECOMPOSED_SQL}, '{_letter}', '{_plain}')"
# ae -> a, oe -> o, ue -> u, except "que" (Quelle, Queue): the q's u is kept aside first.
_QUE = "\ue000"  # a private-use character, in no text we store
_GERMAN = (
    f"replace(replace(replace(replace(replace({{}}, 'que', 'q{_QUE}'), 'ae', 'a'), 'oe', 'o'), "
    f"'ue', 'u'), 'q{_QUE}', 'que')"
)
# Accents off: the canonical decomposition, then no combining marks (U+0300-U+036F); then
# lower case (ASCII by now, so any locale lowers it).
_PLAIN = "lower(regexp_replace(normalize($1, NFD), '[\u0300-\u036f]', '', 'g'))"

FUNCTIONS = {
    "crm_fold(text)": _GERMAN.format(_UNDECOMPOSED_SQL.format(_PLAIN)),
    "crm_compact(text)": "regexp_replace(lower($1), '[^a-z0-9]', '', 'g')",
    "crm_digits(text)": "regexp_replace($1, '[^0-9]', '', 'g')",
    "crm_domain(text)": (
        "regexp_replace(lower($1), '^([a-z][a-z0-9+.-]*://)?(www\\.)?([^/:?#@]*).*$', '\\3')"
    ),
}
# Not STRICT: a contact without a first name is still found by the last.
PERSON = "crm_person(text, text)"
PERSON_BODY = "coalesce($1 || ' ', '') || $2"
# array_to_string is STABLE (any element type); for text it is immutable, which the index
# needs.
WORDS = "crm_words(text[])"
WORDS_BODY = "array_to_string($1, ' ')"

FOLD_COST = 100  # in units of cpu_operator_cost, as a function's COST is
TAGS = "crm_fold(crm_words(tags::text[]))"
TRIGRAM = {
    "ix_company_search_name": ("company", "search_name"),
    "ix_company_search_vat_id": ("company", "crm_compact(vat_id)"),
    "ix_company_search_tax_id": ("company", "crm_compact(tax_id)"),
    "ix_company_search_register": ("company", "crm_compact(trade_register_number)"),
    "ix_company_search_website": ("company", "crm_domain(website)"),
    "ix_company_search_billing_city": ("company", "crm_fold(billing_address ->> 'city')"),
    "ix_company_search_delivery_city": ("company", "crm_fold(delivery_address ->> 'city')"),
    "ix_company_search_tags": ("company", TAGS),
    "ix_contact_search_name": ("contact", "search_name"),
    "ix_contact_search_tags": ("contact", TAGS),
    "ix_contact_email_search": ("contact_email", "crm_fold(email)"),
    "ix_contact_phone_search": ("contact_phone", "crm_digits(phone)"),
    "ix_deal_search_title": ("deal", "crm_fold(title)"),
    "ix_activity_search_subject": ("activity", "crm_fold(subject)"),
    "ix_contract_search_title": ("contract", "crm_fold(title)"),
    "ix_contract_search_number": ("contract", "crm_compact(number)"),
}
BODY_DOCUMENT = "to_tsvector('simple'::regconfig, crm_fold(body))"

# The names, folded and stored (a trigram index on an expression is rechecked by computing it
# again for every candidate row: about 10 µs each, most of a search's time).
SEARCH_NAMES = {
    "company": "crm_fold(name)",
    "contact": "crm_fold(crm_person(first_name, last_name))",
}

# Every tenant condition of the view: the transaction's tenant, none without one.
CURRENT_TENANT = "nullif(current_setting('app.tenant_id', true), '')::uuid"
# (kind, field, table, the value as stored, folded, extra condition)
BRANCHES = (
    ("company", "name", "company", "name", "search_name", ""),
    ("company", "vatId", "company", "vat_id", "crm_compact(vat_id)", ""),
    ("company", "taxId", "company", "tax_id", "crm_compact(tax_id)", ""),
    (
        "company", "tradeRegisterNumber", "company", "trade_register_number",
        "crm_compact(trade_register_number)", "",
    ),
    ("company", "website", "company", "website", "crm_domain(website)", ""),
    (
        "company", "city", "company", "billing_address ->> 'city'",
        "crm_fold(billing_address ->> 'city')", "",
    ),
    (
        "company", "city", "company", "delivery_address ->> 'city'",
        "crm_fold(delivery_address ->> 'city')",
        "AND delivery_address ->> 'city' IS DISTINCT FROM billing_address ->> 'city'",
    ),
    ("company", "tags", "company", "crm_words(tags::text[])", TAGS, "AND tags <> '{}'"),
    ("company", "email", "contact_email", "email", "crm_fold(email)", "company_id"),
    ("company", "phone", "contact_phone", "phone", "crm_digits(phone)", "company_id"),
    (
        "contact", "name", "contact", "crm_person(first_name, last_name)",
        "search_name", "",
    ),
    ("contact", "tags", "contact", "crm_words(tags::text[])", TAGS, "AND tags <> '{}'"),
    ("contact", "email", "contact_email", "email", "crm_fold(email)", "contact_id"),
    ("contact", "phone", "contact_phone", "phone", "crm_digits(phone)", "contact_id"),
    ("deal", "title", "deal", "title", "crm_fold(title)", ""),
    ("activity", "subject", "activity", "subject", "crm_fold(subject)", ""),
    ("activity", "body", "activity", "body", None, ""),
    ("contract", "title", "contract", "title", "crm_fold(title)", ""),
    ("contract", "number", "contract", "number", "crm_compact(number)", ""),
)  # fmt: skip


def _branch(kind: str, field: str, table: str, body: str, folded: str | None, extra: str) -> str:
    record = "id"
    if extra in ("company_id", "contact_id"):  # e-mails and phones: their owner's record
        record, extra = extra, f"AND {extra} IS NOT NULL"
    document = "NULL::tsvector"
    if folded is None:
        folded, document = "NULL::text", BODY_DOCUMENT
    return (
        f"SELECT tenant_id, '{kind}'::text AS kind, {record} AS record_id, "
        f"'{field}'::text AS field, ({body})::text AS body, ({folded})::text AS folded, "
        f"{document} AS document FROM {table} "
        f"WHERE tenant_id = {CURRENT_TENANT} AND ({body}) IS NOT NULL {extra}"
    )


VIEW = "CREATE VIEW search_entry AS\n" + "\nUNION ALL\n".join(_branch(*b) for b in BRANCHES)


def _function(signature: str, body: str, *, strict: bool) -> str:
    """PL/pgSQL, never inlined, with a cost that says what folding a value takes: with an
    inlined SQL function the planner priced a regular expression per row like an addition,
    and filtered a tenant's 10,000 rows rather than read the trigram index. The indexes and
    the view call the same function, so the planner still matches them."""
    nulls = " STRICT" if strict else ""
    return (
        f"CREATE FUNCTION {signature} RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE"
        f"{nulls} COST {FOLD_COST} AS $$ BEGIN RETURN {body}; END $$"
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for signature, body in FUNCTIONS.items():
        op.execute(_function(signature, body, strict=True))
    op.execute(_function(PERSON, PERSON_BODY, strict=False))
    op.execute(_function(WORDS, WORDS_BODY, strict=True))
    for table, expression in SEARCH_NAMES.items():  # rewrites the table: its rows get theirs
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_name text "
            f"GENERATED ALWAYS AS ({expression}) STORED"
        )
    op.execute(VIEW)
    grant_tenant_view(op.execute, "search_entry", functions=(*FUNCTIONS, PERSON, WORDS))
    # CONCURRENTLY: the tables stay writable while an index builds (as in 0004 and 0006).
    with op.get_context().autocommit_block():
        for name, (table, expression) in TRIGRAM.items():
            op.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
                f"USING gin (({expression}) gin_trgm_ops)"
            )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_activity_search_body ON activity "
            f"USING gin (({BODY_DOCUMENT}))"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in (*TRIGRAM, "ix_activity_search_body"):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP VIEW search_entry")
    for table in SEARCH_NAMES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN search_name")
    for signature in (WORDS, PERSON, *reversed(FUNCTIONS)):
        op.execute(f"DROP FUNCTION {signature}")
    # pg_trgm stays: another schema of the database may use it, and dropping it needs the
    # rights that created it.
