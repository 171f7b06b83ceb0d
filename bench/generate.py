"""Deterministic benchmark data: one realistic tenant (2,000 companies, ~5 contacts each with
2 e-mails, 2 phones and 1-2 owners, ~3 deals each with a stage and 1-2 owners, activities) and
nine smaller tenants, so tenant filtering is real. Same seed, same rows, same ids.

    python bench/generate.py --database-url postgresql://... [--scale 1.0]

Loads with COPY into a migrated database, then ANALYZE. `--scale 50` is the 100,000-company
tenant of S8 (bench/scale.py; 8.5 million rows): `chunks` hands the rows over 2,000
companies at a time, and `load_chunks` marks what it loaded so that the next run reuses it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import asyncpg
from sqlmodel import SQLModel

import models
from app.data.row_values import stored_values
from bench.search_words import vat_id

SEED = 20261124
ROWS_VERSION = 1  # part of what marks a loaded database: raise it when the rows change
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
FIRST = ["Anna", "Jonas", "Lea", "Lukas", "Mia", "Felix", "Emma", "Paul", "Sophie", "Max"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
CITIES = [("70173", "Stuttgart"), ("80331", "München"), ("10115", "Berlin"), ("50667", "Köln")]
FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K."]
STAGES = [("Qualifizierung", 10, "OPEN"), ("Angebot", 50, "OPEN"), ("Verhandlung", 75, "OPEN"),
          ("Gewonnen", 100, "WON"), ("Verloren", 0, "LOST")]  # fmt: skip


def another_phone(rng: random.Random, taken: list[str]) -> str:
    """A number the contact does not have yet: `uq_contact_phone_contact_id_value` forbids one
    number twice per contact, and two independent draws from 900,000 numbers met about once in
    10^6 contacts (scale 10 and up failed to load). A repeated draw is drawn again, so where
    none repeated the numbers (and every row after them) are what they were."""
    while True:
        phone = f"+49 711 {rng.randint(100000, 999999)}"
        if phone not in taken:
            return phone


@cache
def _models() -> dict[str, Any]:
    """Each table's model, by table name."""
    return {
        model.__tablename__: model
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, SQLModel) and hasattr(model, "__table__")
    }


@dataclass
class Tables:
    """Rows per table, in COPY column order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, table: str, **values: Any) -> None:
        # What the services write beside the values (tag keys, and whatever a derived column
        # of the future needs) is written here too: COPY bypasses the services.
        values = stored_values(_models()[table], values)
        columns = self.columns.setdefault(table, tuple(values))
        assert columns == tuple(values), f"{table}: every row names the same columns in order"
        self.rows[table].append(tuple(values.values()))


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self.clock = 0
        self.tables = Tables()

    def id(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)

    def moment(self) -> datetime:
        self.clock += 1  # distinct, increasing timestamps: stable keyset order
        return EPOCH + timedelta(seconds=self.clock * 37)

    def tenant(self, slug: str, companies: int) -> Iterator[None]:
        """Adds the tenant's rows, pausing after each company: a caller may `take()` the rows
        so far (the draws, and so the rows, are the same however they are taken)."""
        tenant_id = self.id()
        self.tables.add(
            "tenant", id=tenant_id, slug=slug, name=slug.title(), created_at=self.moment()
        )
        users = [self.user(tenant_id, n) for n in range(8)]
        stages = self.pipeline(tenant_id)
        for n in range(companies):
            self.company(tenant_id, n, users, stages)
            yield

    def take(self) -> Tables:
        """The rows added since the last take."""
        taken, self.tables = self.tables, Tables()
        return taken

    def user(self, tenant_id: uuid.UUID, n: int) -> uuid.UUID:
        user_id = self.id()
        name = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
        self.tables.add("user", id=user_id, tenant_id=tenant_id, subject=f"user-{n}",
                        email=f"user{n}@example.de", name=name, signed_in_at=EPOCH)  # fmt: skip
        return user_id

    def pipeline(self, tenant_id: uuid.UUID) -> tuple[uuid.UUID, list[tuple[uuid.UUID, str]]]:
        pipeline_id = self.id()
        self.tables.add("pipeline", id=pipeline_id, tenant_id=tenant_id, name="Vertrieb",
                        is_default=True, created_at=self.moment())  # fmt: skip
        stages = []
        for position, (name, probability, kind) in enumerate(STAGES):
            stage_id = self.id()
            self.tables.add("pipeline_stage", id=stage_id, tenant_id=tenant_id,
                            pipeline_id=pipeline_id, name=name, position=position,
                            probability=probability, kind=kind)  # fmt: skip
            stages.append((stage_id, kind))
        return pipeline_id, stages

    def company(self, tenant_id: uuid.UUID, n: int, users: list[uuid.UUID], pipeline: Any) -> None:
        company_id, created = self.id(), self.moment()
        zip_code, city = self.random.choice(CITIES)
        name = f"{LAST[n % len(LAST)]} {self.random.choice(['Maschinenbau', 'Logistik', 'Software', 'Handel'])} {n} {self.random.choice(FORMS)}"
        address = f'{{"street": "Hauptstraße {n % 200 + 1}", "zip": "{zip_code}", "city": "{city}", "country_code": "DE"}}'
        self.tables.add("company", id=company_id, tenant_id=tenant_id, name=name,
                        website=f"https://firma{n}.example.de", vat_id=vat_id(10_000_000 + n),
                        billing_address=address, created_at=created, updated_at=created)  # fmt: skip
        self.owners("company_owner", "company_id", tenant_id, company_id, users)
        contacts = [
            self.contact(tenant_id, company_id, users) for _ in range(self.random.randint(3, 7))
        ]
        for _ in range(self.random.randint(1, 5)):
            self.deal(tenant_id, company_id, self.random.choice(contacts), users, pipeline)
        for _ in range(self.random.randint(1, 4)):
            self.activity(tenant_id, company_id, self.random.choice(contacts), users)

    def owners(
        self,
        table: str,
        column: str,
        tenant_id: uuid.UUID,
        parent: uuid.UUID,
        users: list[uuid.UUID],
    ) -> None:
        for position, user_id in enumerate(self.random.sample(users, self.random.randint(1, 2))):
            self.tables.add(table, id=self.id(), tenant_id=tenant_id, **{column: parent},
                            user_id=user_id, role="OWNER" if position == 0 else "MEMBER",
                            created_at=self.moment())  # fmt: skip

    def contact(
        self, tenant_id: uuid.UUID, company_id: uuid.UUID, users: list[uuid.UUID]
    ) -> uuid.UUID:
        contact_id, created = self.id(), self.moment()
        first, last = self.random.choice(FIRST), self.random.choice(LAST)
        self.tables.add("contact", id=contact_id, tenant_id=tenant_id, first_name=first,
                        last_name=last, company_id=company_id, position="Einkauf",
                        created_at=created, updated_at=created)  # fmt: skip
        for n, kind in enumerate(("WORK", "PERSONAL")):
            self.tables.add("contact_email", id=self.id(), tenant_id=tenant_id, contact_id=contact_id,
                            type=kind, email=f"{first.lower()}.{contact_id.hex[:8]}{n}@example.de",
                            is_primary=n == 0, created_at=self.moment())  # fmt: skip
        phones: list[str] = []
        for n, kind in enumerate(("OFFICE", "MOBILE")):
            phone_id = self.id()
            phones.append(another_phone(self.random, phones))
            self.tables.add("contact_phone", id=phone_id, tenant_id=tenant_id, contact_id=contact_id,
                            type=kind, phone=phones[-1], is_primary=n == 0, created_at=self.moment())  # fmt: skip
        self.owners("contact_owner", "contact_id", tenant_id, contact_id, users)
        return contact_id

    def deal(
        self,
        tenant_id: uuid.UUID,
        company_id: uuid.UUID,
        contact_id: uuid.UUID,
        users: list[uuid.UUID],
        pipeline: Any,
    ) -> None:
        pipeline_id, stages = pipeline
        stage_id, kind = self.random.choice(stages)
        deal_id, created = self.id(), self.moment()
        value = Decimal(self.random.randint(1000, 250000)) / 100 * 100
        self.tables.add("deal", id=deal_id, tenant_id=tenant_id, title=f"Rahmenvertrag {deal_id.hex[:6]}",
                        value=value, currency="EUR", pipeline_id=pipeline_id, stage_id=stage_id,
                        contact_id=contact_id, company_id=company_id,
                        expected_close_date=date(2026, 1 + self.random.randint(0, 11), 15),
                        status={"OPEN": "OPEN", "WON": "WON", "LOST": "LOST"}[kind],
                        lost_reason="PRICE" if kind == "LOST" else None,
                        closed_at=created if kind != "OPEN" else None,
                        created_at=created, updated_at=created)  # fmt: skip
        self.owners("deal_owner", "deal_id", tenant_id, deal_id, users)

    def activity(
        self,
        tenant_id: uuid.UUID,
        company_id: uuid.UUID,
        contact_id: uuid.UUID,
        users: list[uuid.UUID],
    ) -> None:
        created = self.moment()
        self.tables.add("activity", id=self.id(), tenant_id=tenant_id,
                        type=self.random.choice(["CALL", "EMAIL", "MEETING", "NOTE"]),
                        subject="Nachfassen", company_id=company_id, contact_id=contact_id,
                        assignee_id=self.random.choice(users), created_at=created,
                        updated_at=created)  # fmt: skip


def tenants(scale: float) -> list[tuple[str, int]]:
    """Each tenant's slug and number of companies: `bench` and nine with a tenth of its size."""
    others = [(f"bench-other-{n}", max(1, int(200 * scale))) for n in range(9)]
    return [("bench", max(1, int(2000 * scale))), *others]


def generate(scale: float = 1.0) -> Tables:
    """All rows at once (scale 1: 170,000 rows; `chunks` for the large scales)."""
    generator = Generator()
    for slug, companies in tenants(scale):
        for _ in generator.tenant(slug, companies):
            pass
    return generator.tables


def chunks(scale: float = 1.0, size: int = 2000) -> Iterator[Tables]:
    """The rows of `generate(scale)`, in the same order, `size` companies (with what they own)
    at a time: scale 50 is 8.5 million rows, too many to hold at once."""
    generator = Generator()
    made = 0
    for slug, companies in tenants(scale):
        for _ in generator.tenant(slug, companies):
            made += 1
            if made % size == 0:
                yield generator.take()
    last = generator.take()
    if last.rows:
        yield last


LOAD_ORDER = ("tenant", "user", "pipeline", "pipeline_stage", "company", "company_owner",
              "contact", "contact_email", "contact_phone", "contact_owner", "deal", "deal_owner",
              "activity")  # fmt: skip


async def load(database_url: str, tables: Tables) -> dict[str, int]:
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        companies = await connection.fetchval("SELECT count(*) FROM company")
        if companies == len(tables.rows["company"]):
            return {}  # already loaded at this scale (same seed, same rows)
        async with connection.transaction():
            # Another scale (or none): start from empty tables (the cascade reaches every
            # tenant-owned table, including rows earlier benchmark runs wrote).
            await connection.execute("TRUNCATE tenant CASCADE")
            for table in LOAD_ORDER:
                columns = list(tables.columns[table])
                await connection.copy_records_to_table(
                    table, records=tables.rows[table], columns=columns
                )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {table: len(tables.rows[table]) for table in LOAD_ORDER}


def fingerprint(scale: float, seed: int = SEED) -> str:
    """What `load_chunks` marks the loaded tables with (a comment on `tenant`)."""
    return f"bench generate.py rows={ROWS_VERSION} seed={seed} scale={scale:g}"


async def load_chunks(database_url: str, scale: float, size: int = 2000) -> dict[str, Any] | None:
    """COPY `chunks(scale)` into a migrated database (the owner's URL) in one transaction,
    replacing whatever the tenant tables held, then ANALYZE; None when they are marked with
    this seed and scale already (S8's clusters, bench/scale.py, are loaded once)."""
    mark = fingerprint(scale)
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        if (
            await connection.fetchval("SELECT obj_description('tenant'::regclass, 'pg_class')")
            == mark
        ):
            return None
        started = time.monotonic()
        counts = dict.fromkeys(LOAD_ORDER, 0)
        async with connection.transaction():
            await connection.execute("TRUNCATE tenant CASCADE")
            indexes = await _set_aside_indexes(connection)
            made = chunks(scale, size)
            # The next chunk is generated (in a thread) while PostgreSQL takes the last one.
            upcoming = asyncio.create_task(asyncio.to_thread(next, made, None))
            while (tables := await upcoming) is not None:
                upcoming = asyncio.create_task(asyncio.to_thread(next, made, None))
                for table in LOAD_ORDER:
                    if tables.rows[table]:
                        await connection.copy_records_to_table(
                            table, records=tables.rows[table], columns=list(tables.columns[table])
                        )
                        counts[table] += len(tables.rows[table])
            await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for definition in indexes:  # a unique one checks the rows as it is built
                await connection.execute(definition)
            await connection.execute(f"COMMENT ON TABLE tenant IS '{mark}'")
        copied = time.monotonic()
        await connection.execute("ANALYZE")
        size_bytes = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {"rows": counts, "generate_and_copy_s": round(copied - started, 1),
            "analyze_s": round(time.monotonic() - copied, 1), "database_mb": size_bytes // 2**20}  # fmt: skip


async def _set_aside_indexes(connection: asyncpg.Connection) -> list[str]:
    """Drops the loaded tables' indexes that no constraint owns, returning how to build them
    again: one index built after 8.5 million rows is many times faster than 8.5 million
    inserts into it (scale 50 with them took hours on two shared cores: random UUIDs and
    trigrams in indexes far larger than shared_buffers). Keys and unique constraints stay."""
    rows = await connection.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace"
        " AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        list(LOAD_ORDER),
    )
    for row in rows:
        await connection.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the tables' owner's")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(asyncio.run(load_chunks(args.database_url, args.scale)) or "already loaded")


if __name__ == "__main__":
    main()
