"""The benchmark's generators: rows the schema accepts (every unique index, foreign key and
check), the same rows from the same seed, and a loaded database reused."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable

import asyncpg
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from app.migrations import upgrade_to_head
from app.services.data_quality import rules as data_quality
from bench.generate import LOAD_ORDER, Tables, another_phone, chunks, generate, load_chunks
from bench.search_data import ANCHORS, SearchGenerator, load
from bench.search_words import digits, transliterated, vat_id
from tests.conftest import Servers

SCALE = 0.002  # 200 companies in the bench tenant, 10 in each other


def test_a_repeated_phone_is_drawn_again() -> None:
    """The default generator's second number of a contact: two independent draws met about
    once in 10^6 contacts, and the load failed on uq_contact_phone_contact_id_value."""
    upcoming = random.Random(7).randint(100000, 999999)  # what the next draw gives
    taken = [f"+49 711 {upcoming}"]
    drawn = another_phone(random.Random(7), taken)
    assert drawn.startswith("+49 711 ") and drawn not in taken


def test_german_helpers() -> None:
    assert transliterated("Müller Söhne Groß Ärzte") == "Mueller Soehne Gross Aerzte"
    assert digits("+49 711 123456-0") == digits("0711 1234560") == digits("0049 711 1234560")
    assert digits("+49 (0)711 1234560") == "497111234560"
    assert vat_id(13669597) == "DE136695976"  # valid German VAT ids, check digit and all
    assert vat_id(81190798) == "DE811907980"


def _rows(scale: float) -> dict[str, list[tuple[object, ...]]]:
    rows: dict[str, list[tuple[object, ...]]] = {}
    for chunk in SearchGenerator(scale).chunks(size=50):
        for table, values in chunk.rows.items():
            rows.setdefault(table, []).extend(values)
    return rows


def test_search_data_is_the_same_from_the_same_seed_and_realistic() -> None:
    rows = _rows(SCALE)
    assert rows == _rows(SCALE)
    assert sum(1 for _ in rows["company"]) == 200 + 3 * 10
    assert len(rows["contact"]) == 5 * (200 + 3 * 10)  # five per company on average, exactly
    names = [row[2] for row in rows["company"]]
    assert names[: len(ANCHORS)] == ANCHORS
    assert any(name.endswith(" GmbH & Co. KG") for name in names)
    assert any(name.endswith(" UG (haftungsbeschränkt)") for name in names)
    phones = [row[5] for row in rows["contact_phone"]]
    shapes = Counter(phone[:2] for phone in phones)  # "+4", "00", "0x", "(0"
    assert {"+4", "00", "(0"} <= set(shapes) and any(
        s.startswith("0") and s != "00" for s in shapes
    )


async def test_search_data_loads_into_the_schema_and_is_reused(
    servers: Servers, scratch_database_url: str
) -> None:
    """COPY checks every unique index, foreign key and check constraint; the second load
    finds the same seed and scale and leaves the tables alone."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url, servers.serving_url)
    loaded = await load(scratch_database_url, SCALE, chunk=50)
    assert loaded is not None
    assert loaded["rows"]["company"] == 230 and loaded["rows"]["contact"] == 1150
    assert await load(scratch_database_url, SCALE, chunk=50) is None
    connection = await asyncpg.connect(scratch_database_url.replace("+asyncpg", ""))
    try:
        company = await connection.fetchrow(
            "SELECT c.billing_address, c.tags, c.tag_keys, c.website FROM company c"
            " JOIN tenant t ON t.id = c.tenant_id AND t.slug = 'bench'"
            " WHERE c.name = 'Müller Maschinenbau GmbH'"
        )
        tagged = await connection.fetchval(
            "SELECT count(*) FROM contact WHERE cardinality(tags) > 0 AND tag_keys <> '{}'"
        )
    finally:
        await connection.close()
    assert set(json.loads(company["billing_address"])) == {"street", "zip", "city", "country"}
    assert company["website"] == "https://www.mueller-maschinenbau.de"
    assert tagged > 0  # the tag keys were written with the tags (stored_values)


def _failing(
    tables: dict[str, list[tuple[object, ...]]], columns: dict[str, tuple[str, ...]]
) -> list[object]:
    """Every generated identifier that today's checks refuse (the data quality rules)."""
    checks = {
        "company": data_quality.COMPANY_FIELDS,
        "contact_email": data_quality.EMAIL_FIELDS,
        "contact_phone": data_quality.PHONE_FIELDS,
    }
    failing: list[object] = []
    for table, fields in checks.items():
        for values in tables[table]:
            row = dict(zip(columns[table], values, strict=True))
            for key in ("billing_address", "delivery_address"):
                if isinstance(row.get(key), str):
                    row[key] = json.loads(str(row[key]))
            row.setdefault("delivery_address", None)
            record = (data_quality.RecordType.COMPANY, row["id"])
            failing += [issue for _, issue in data_quality.issues_of(fields, row, record)]  # type: ignore[arg-type]
    return failing


def test_generated_identifiers_are_valid() -> None:
    """VAT ids with their check digits, tax and register numbers, courts, postcodes, phones and
    e-mails of both generators pass the checks input gets (app.services.common.identifiers)."""
    tables = generate(SCALE)
    assert _failing(tables.rows, tables.columns) == []
    search_rows: dict[str, list[tuple[object, ...]]] = {}
    search_columns: dict[str, tuple[str, ...]] = {}
    for chunk in SearchGenerator(SCALE).chunks(size=50):
        for table, values in chunk.rows.items():
            search_rows.setdefault(table, []).extend(values)
        search_columns.update(chunk.columns)
    assert _failing(search_rows, search_columns) == []


# ---- every unique index of the schema, checked on the generated rows (bench/generate.py)

Row = dict[str, object]
Key = Callable[[Row], object]


def _part(expression: object) -> Key:
    """One part of a unique key: a column, or lower(column)."""
    if isinstance(expression, sa.Column):
        return lambda row, name=expression.name: row.get(name)
    text = str(expression).strip()
    if re.fullmatch(r"\w+", text):
        return lambda row: row.get(text)
    if match := re.fullmatch(r"lower\((\w+)\)", text):
        return lambda row, name=match[1]: None if row.get(name) is None else str(row[name]).lower()
    raise AssertionError(f"teach _part the unique index expression {text!r}")


def _where(clause: object) -> Callable[[Row], bool]:
    """A partial index's predicate: terms `column`, `column IS [NOT] NULL`, joined by AND."""
    if clause is None:
        return lambda row: True
    tests: list[Callable[[Row], bool]] = []
    for term in re.split(r"\s+AND\s+", str(clause).strip(), flags=re.IGNORECASE):
        if match := re.fullmatch(r"(\w+) IS NOT NULL", term, re.IGNORECASE):
            tests.append(lambda row, name=match[1]: row.get(name) is not None)
        elif match := re.fullmatch(r"(\w+) IS NULL", term, re.IGNORECASE):
            tests.append(lambda row, name=match[1]: row.get(name) is None)
        elif re.fullmatch(r"\w+", term):
            tests.append(lambda row, name=term: row.get(name) is True)
        else:
            raise AssertionError(f"teach _where the partial index term {term!r}")
    return lambda row: all(test(row) for test in tests)


def unique_keys(table: sa.Table) -> dict[str, tuple[list[Key], Callable[[Row], bool]]]:
    """Each unique constraint and unique index of a table: its key's parts and which rows it
    covers. A column the rows do not name is NULL (defaults of the columns in such keys)."""
    keys: dict[str, tuple[list[Key], Callable[[Row], bool]]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.PrimaryKeyConstraint | sa.UniqueConstraint):
            columns = list(constraint.columns)
            keys[f"{constraint.name or [c.name for c in columns]}"] = (
                [_part(c) for c in columns], _where(None))  # fmt: skip
    for index in table.indexes:
        if index.unique:
            options = index.dialect_options["postgresql"]
            assert not options.get("nulls_not_distinct"), "teach unique_keys NULLS NOT DISTINCT"
            keys[str(index.name)] = (
                [_part(e) for e in index.expressions],
                _where(options.get("where")),
            )
    return keys


def repeated_unique_keys(tables: Iterable[Tables]) -> dict[str, list[tuple[object, ...]]]:
    """Per unique index, the keys rows of `tables` (chunks of one load) repeat: what COPY would
    refuse. NULL in a key part: never a repeat (NULLs are distinct)."""
    metadata = SQLModel.metadata.tables
    checks = {table: unique_keys(metadata[table]) for table in LOAD_ORDER}
    seen: dict[str, set[tuple[object, ...]]] = {}
    repeated: dict[str, list[tuple[object, ...]]] = {}
    for chunk in tables:
        for table, values in chunk.rows.items():
            names = chunk.columns[table]
            for raw in values:
                row = dict(zip(names, raw, strict=True))
                for name, (parts, covers) in checks[table].items():
                    key = tuple(part(row) for part in parts)
                    if None in key or not covers(row):
                        continue
                    found = seen.setdefault(f"{table}.{name}", set())
                    if key in found:
                        repeated.setdefault(f"{table}.{name}", []).append(key)
                    found.add(key)
    return repeated


def test_the_unique_check_knows_every_index_and_finds_a_repeated_key() -> None:
    """The check below reads every unique index of the schema (one it cannot read fails
    here); a contact with one number twice is what it finds."""
    rows = generate(SCALE)
    assert repeated_unique_keys([rows]) == {}
    phones = rows.rows["contact_phone"]
    columns = rows.columns["contact_phone"]
    twice = dict(zip(columns, phones[0], strict=True)) | {"phone": phones[1][columns.index("phone")],
                                                           "is_primary": False, "id": "another"}  # fmt: skip
    rows.rows["contact_phone"].append(tuple(twice.values()))
    repeated = repeated_unique_keys([rows])
    assert list(repeated) == ["contact_phone.uq_contact_phone_contact_id_value"]


def test_chunks_are_the_rows_of_generate() -> None:
    """`chunks` (what S8 loads at scale 50) cuts the same draws into pieces."""
    whole = generate(SCALE)
    pieces: dict[str, list[tuple[object, ...]]] = {}
    for chunk in chunks(SCALE, size=7):
        assert chunk.columns == {t: whole.columns[t] for t in chunk.columns}
        for table, values in chunk.rows.items():
            pieces.setdefault(table, []).extend(values)
    assert pieces == dict(whole.rows)


@pytest.mark.parametrize("scale", [10])
def test_no_unique_key_repeats_at_scale_10(scale: float) -> None:
    """38,000 companies, 190,000 contacts: where independent phone draws met
    (uq_contact_phone_contact_id_value failed the load). Slow: 1.7 million rows."""
    assert repeated_unique_keys(chunks(scale)) == {}


async def test_the_default_generator_loads_in_chunks_and_is_reused(
    servers: Servers, scratch_database_url: str
) -> None:
    """COPY checks every foreign key and check constraint of chunked rows (a company's
    contacts in the chunk after it), and the indexes set aside meanwhile come back as they
    were (the unique ones checking the rows); the mark makes the second load a no-op."""
    await asyncio.to_thread(upgrade_to_head, scratch_database_url, servers.serving_url)
    indexes = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    connection = await asyncpg.connect(scratch_database_url.replace("+asyncpg", ""))
    try:
        before = sorted(map(tuple, await connection.fetch(indexes)))
        loaded = await load_chunks(scratch_database_url, SCALE, size=3)
        assert loaded is not None
        assert loaded["rows"]["company"] == 4 + 9 and loaded["rows"]["contact"] > 13
        assert sorted(map(tuple, await connection.fetch(indexes))) == before
        assert await load_chunks(scratch_database_url, SCALE, size=3) is None
    finally:
        await connection.close()
