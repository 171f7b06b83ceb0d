"""The benchmark's generators: rows the schema accepts (every unique index, foreign key and
check), the same rows from the same seed, and a loaded database reused."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

import asyncpg

from app.migrations import upgrade_to_head
from app.services.data_quality import rules as data_quality
from bench.generate import another_phone, generate
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
