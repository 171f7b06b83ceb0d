"""S9's data: a tenant of 100,000 German companies and 500,000 contacts at scale 1 (and three
smaller tenants made the same way, so that the tenant filter has rows to leave out and
near-identical names live in other tenants), deterministic from one seed.

Companies are named from weighted surnames, trades and legal forms ("Müller Maschinenbau
GmbH", "Becker & Söhne KG", "Schäfer-Groß Hydraulik GmbH & Co. KG"), with a billing address,
a website and e-mail domain transliterated from the name (ü -> ue), a valid-looking VAT id,
a tax number, a trade register entry, tags, an industry and a size; contacts with German
names, one to three e-mail addresses and phone numbers written the ways people type them
("+49 711 123456-0", "0711 1234560", "0049 711 1234560", "0170 1234567"); deals, activities
with a few sentences of sales notes, contracts, owners.

The rows come in chunks (`SearchGenerator.chunks`) so that 4 million of them never sit in
memory at once; `load` COPYs them in one transaction while the next chunk is generated, and
leaves a database alone that already holds this seed and scale.

    python bench/search_data.py --database-url postgresql://... [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from bench import search_words as words
from bench.generate import Tables
from bench.search_words import digits, landline, mobile, slug, vat_id

SEED = 20261207
ROWS_VERSION = 1  # part of what marks a loaded database: raise it when the generator's rows change
COMPANIES = 100_000  # at scale 1; five contacts per company on average
OTHER_TENANTS = 3  # each with 2 % of the bench tenant's companies
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
STAGES = [("Qualifizierung", 10, "OPEN"), ("Angebot", 40, "OPEN"), ("Verhandlung", 70, "OPEN"),
          ("Gewonnen", 100, "WON"), ("Verloren", 0, "LOST")]  # fmt: skip
# Records every scale has, first in the bench tenant, so that the examples find them.
ANCHORS = ["Müller Maschinenbau GmbH", "Becker & Söhne KG", "Schneider Logistik AG",
           "Bäckerei Weiß e.K.", "Mueller Metallbau GmbH & Co. KG"]  # fmt: skip
LOAD_ORDER = ("tenant", "user", "industry", "pipeline", "pipeline_stage", "company",
              "company_owner", "contact", "contact_email", "contact_phone", "contact_owner",
              "deal", "deal_owner", "activity", "contract")  # fmt: skip


@dataclass
class Company:
    id: uuid.UUID
    name: str
    domain: str
    city: tuple[str, str, str, str]
    number: str  # the switchboard's subscriber number, extensions are added to it


class SearchGenerator:
    def __init__(self, scale: float = 1.0, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self.clock = 0
        self.scale = scale
        self.surnames = [s for s, _ in words.SURNAMES]
        self.surname_weights = [w for _, w in words.SURNAMES]
        self.forms = [(f, r) for f, r, _ in words.FORMS]
        self.form_weights = [w for _, _, w in words.FORMS]

    @property
    def companies(self) -> int:
        """The bench tenant's companies: what a loaded database is recognised by."""
        return max(len(ANCHORS), int(COMPANIES * self.scale))

    def tenants(self) -> list[tuple[str, int]]:
        other = max(10, self.companies // 50)
        return [("bench", self.companies)] + [
            (f"bench-other-{n}", other) for n in range(OTHER_TENANTS)
        ]

    def id(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)

    def moment(self) -> datetime:
        self.clock += 1  # distinct, increasing timestamps: stable keyset order
        return EPOCH + timedelta(seconds=self.clock * 7)

    def chunks(self, size: int = 2000) -> Iterator[Tables]:
        """The rows, tenant by tenant, `size` companies (with everything of theirs) at a time."""
        for slug_, count in self.tenants():
            tables = Tables()
            tenant = self.tenant(tables, slug_)
            for n in range(count):
                self.company(tables, tenant, n)
                if len(tables.rows["company"]) >= size:
                    yield tables
                    tables = Tables()
            yield tables

    # ---- per tenant

    def tenant(self, tables: Tables, slug_: str) -> dict[str, Any]:
        tenant_id = self.id()
        tables.add("tenant", id=tenant_id, slug=slug_, name=slug_.title(), created_at=EPOCH)
        users = []
        for n in range(25):
            first, last = self.person()
            users.append(self.id())
            tables.add("user", id=users[-1], tenant_id=tenant_id, subject=f"user-{n}",
                       email=f"{slug(first)}.{slug(last)}{n}@vertrieb.example.de",
                       name=f"{first} {last}", signed_in_at=EPOCH)  # fmt: skip
        industries = []
        for name in words.INDUSTRIES:
            industries.append(self.id())
            tables.add(
                "industry", id=industries[-1], tenant_id=tenant_id, name=name, created_at=EPOCH
            )
        pipeline_id = self.id()
        tables.add("pipeline", id=pipeline_id, tenant_id=tenant_id, name="Vertrieb",
                   is_default=True, created_at=EPOCH)  # fmt: skip
        stages = []
        for position, (name, probability, kind) in enumerate(STAGES):
            stages.append((self.id(), kind))
            tables.add("pipeline_stage", id=stages[-1][0], tenant_id=tenant_id,
                       pipeline_id=pipeline_id, name=name, position=position,
                       probability=probability, kind=kind, created_at=EPOCH)  # fmt: skip
        return {"id": tenant_id, "users": users, "industries": industries,
                "pipeline": pipeline_id, "stages": stages, "pair": 0}  # fmt: skip

    def person(self) -> tuple[str, str]:
        first = self.random.choice(words.FEMALE if self.random.random() < 0.45 else words.MALE)
        last = self.random.choices(self.surnames, self.surname_weights)[0]
        return first, last

    # ---- per company

    def company_name(self, n: int) -> str:
        if n < len(ANCHORS):
            return ANCHORS[n]
        rng = self.random
        surname = rng.choices(self.surnames, self.surname_weights)[0]
        form = rng.choices(self.forms, self.form_weights)[0][0]
        trade = rng.choice(words.TRADES)
        shape = rng.randrange(10)
        if shape == 0:
            other = rng.choices(self.surnames, self.surname_weights)[0]
            return f"{surname} & {other} {form}"
        if shape == 1:
            other = rng.choices(self.surnames, self.surname_weights)[0]
            return f"{surname}-{other} {trade} {form}"
        if shape == 2:
            return f"{trade} {surname} {form}"
        if shape == 3:
            return f"{surname} {trade} {rng.choice(words.CITIES)[0]} {form}"
        if shape == 4 and form == "e.K.":
            return f"{trade} {rng.choice(words.MALE)} {surname} e.K."
        return f"{surname} {trade} {form}"

    def company(self, tables: Tables, tenant: dict[str, Any], n: int) -> None:
        rng, tenant_id = self.random, tenant["id"]
        name = self.company_name(n)
        form_free = name
        for form, _ in self.forms:
            form_free = form_free.removesuffix(f" {form}")
        domain = f"{slug(form_free)}.de"
        city = rng.choice(words.CITIES)
        zip_code = f"{city[1]}{rng.randint(100, 999)}"
        address = {"street": f"{rng.choice(words.STREETS)} {rng.randint(1, 180)}", "zip": zip_code,
                   "city": city[0], "country": "DE"}  # fmt: skip
        register = next((r for f, r in self.forms if name.endswith(f)), "HRB")
        company = Company(self.id(), name, domain, city, str(rng.randint(10000, 9999999)))
        created = self.moment()
        size = rng.choices([s for s, _ in words.SIZES], [w for _, w in words.SIZES])[0]
        tables.add("company", id=company.id, tenant_id=tenant_id, name=name,
                   website=f"https://www.{domain}",
                   industry_id=rng.choice(tenant["industries"]) if rng.random() < 0.8 else None,
                   vat_id=vat_id(10_000_000 + n * 7919 % 89_999_999)
                   if rng.random() < 0.85 else None,
                   tax_id=f"{rng.randint(10, 99)}/{rng.randint(100, 999)}/{rng.randint(10000, 99999)}",
                   trade_register_number=f"{register} {rng.randint(1000, 799999)}",
                   register_court=f"Amtsgericht {city[3]}", company_size=size,
                   billing_address=json.dumps(address, ensure_ascii=False), tags=self.tags(),
                   created_at=created, updated_at=created)  # fmt: skip
        self.owners(tables, "company_owner", "company_id", tenant, company.id)
        self.company_reachability(tables, tenant_id, company)
        # Pairs of companies have ten contacts between them: 1-9 each, five on average.
        if tenant["pair"]:
            count, tenant["pair"] = tenant["pair"], 0
        else:
            count = rng.randint(1, 9)
            tenant["pair"] = 10 - count
        contacts = [self.contact(tables, tenant, company) for _ in range(count)]
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
            self.deal(tables, tenant, company, rng.choice(contacts))
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
            self.activity(tables, tenant, company, rng.choice(contacts))
        if rng.random() < 0.3:
            self.contract(tables, tenant_id, company)

    def tags(self) -> list[str]:
        return self.random.sample(words.TAGS, self.random.choice((0, 0, 1, 1, 2, 3)))

    def owners(self, tables: Tables, table: str, column: str, tenant: dict[str, Any],
               parent: uuid.UUID, most: int = 2) -> None:  # fmt: skip
        chosen = self.random.sample(tenant["users"], self.random.randint(1, most))
        for position, user_id in enumerate(chosen):
            tables.add(table, id=self.id(), tenant_id=tenant["id"], **{column: parent},
                       user_id=user_id, role="OWNER" if position == 0 else "MEMBER",
                       created_at=EPOCH)  # fmt: skip

    def company_reachability(self, tables: Tables, tenant_id: uuid.UUID, company: Company) -> None:
        area = company.city[2]
        phones = [("OFFICE", landline(self.random, area, company.number, "0"))]
        if self.random.random() < 0.4:
            phones.append(("FAX", landline(self.random, area, company.number, "99")))
        for n, (kind, phone) in enumerate(phones):
            tables.add("contact_phone", id=self.id(), tenant_id=tenant_id, contact_id=None,
                       company_id=company.id, type=kind, phone=phone, is_primary=n == 0, created_at=EPOCH)  # fmt: skip
        for n, local in enumerate(self.random.sample(["info", "kontakt", "vertrieb", "office"], 2)):
            tables.add("contact_email", id=self.id(), tenant_id=tenant_id, contact_id=None,
                       company_id=company.id, type="WORK", email=f"{local}@{company.domain}", is_primary=n == 0,
                       created_at=EPOCH)  # fmt: skip

    # ---- per contact

    def contact(self, tables: Tables, tenant: dict[str, Any], company: Company) -> uuid.UUID:
        rng, tenant_id = self.random, tenant["id"]
        contact_id, created = self.id(), self.moment()
        first, last = self.person()
        female = first in words.FEMALE
        tables.add("contact", id=contact_id, tenant_id=tenant_id,
                   salutation="Frau" if female else "Herr",
                   title=rng.choice(words.TITLES) if rng.random() < 0.08 else None,
                   first_name=first, last_name=last, position=rng.choice(words.POSITIONS),
                   department=rng.choice(words.DEPARTMENTS), company_id=company.id,
                   tags=self.tags(), created_at=created, updated_at=created)  # fmt: skip
        self.contact_emails(tables, tenant_id, contact_id, first, last, company)
        self.contact_phones(tables, tenant_id, contact_id, company)
        self.owners(tables, "contact_owner", "contact_id", tenant, contact_id, most=1)
        return contact_id

    def contact_emails(self, tables: Tables, tenant_id: uuid.UUID, contact_id: uuid.UUID,
                       first: str, last: str, company: Company) -> None:  # fmt: skip
        rng = self.random
        given, family = slug(first), slug(last)
        local = rng.choice(
            [f"{given}.{family}", f"{given[0]}.{family}", family, f"{given}{family}"]
        )
        emails = [("WORK", f"{local}@{company.domain}")]
        if rng.random() < 0.35:
            emails.append(
                ("PERSONAL", f"{given}.{family}{rng.randint(1, 99)}@{rng.choice(words.MAIL_HOSTS)}")
            )
        if rng.random() < 0.1:
            emails.append(("OTHER", f"{family}@{company.domain}"))
        seen: set[str] = set()  # `uq_contact_email_contact_id_value`: lower(email) once per contact
        for kind, email in emails:
            if email.lower() in seen:
                continue
            tables.add("contact_email", id=self.id(), tenant_id=tenant_id, contact_id=contact_id,
                       company_id=None, type=kind, email=email, is_primary=not seen, created_at=EPOCH)  # fmt: skip
            seen.add(email.lower())

    def contact_phones(self, tables: Tables, tenant_id: uuid.UUID, contact_id: uuid.UUID,
                       company: Company) -> None:  # fmt: skip
        rng, area = self.random, company.city[2]
        phones = [("OFFICE", landline(rng, area, company.number, str(rng.randint(10, 399))))]
        if rng.random() < 0.6:
            phones.append(("MOBILE", mobile(rng)))
        if rng.random() < 0.15:  # a second direct line, sometimes the same one written again
            phones.append(
                ("OFFICE", landline(rng, area, company.number, str(rng.randint(10, 399))))
            )
        seen: set[str] = set()  # one number once per contact, however it is written
        for kind, phone in phones:
            if digits(phone) in seen:
                continue
            tables.add("contact_phone", id=self.id(), tenant_id=tenant_id, contact_id=contact_id,
                       company_id=None, type=kind, phone=phone, is_primary=not seen, created_at=EPOCH)  # fmt: skip
            seen.add(digits(phone))

    # ---- deals, activities, contracts

    def deal(self, tables: Tables, tenant: dict[str, Any], company: Company,
             contact_id: uuid.UUID) -> None:  # fmt: skip
        rng, tenant_id = self.random, tenant["id"]
        stage_id, kind = rng.choice(tenant["stages"])
        deal_id, created = self.id(), self.moment()
        title = rng.choice(words.DEAL_FORMS).format(
            product=rng.choice(words.PRODUCTS),
            year=rng.choice((2025, 2026, 2027)),
            city=company.city[0],
        )
        tables.add("deal", id=deal_id, tenant_id=tenant_id, title=title,
                   value=Decimal(rng.randint(5, 2500)) * 100, currency="EUR",
                   pipeline_id=tenant["pipeline"], stage_id=stage_id, contact_id=contact_id,
                   company_id=company.id, expected_close_date=date(2026, rng.randint(1, 12), rng.randint(1, 28)),
                   status=kind, lost_reason=rng.choice(words.LOST_REASONS) if kind == "LOST" else None,
                   closed_at=created if kind != "OPEN" else None,
                   created_at=created, updated_at=created)  # fmt: skip
        self.owners(tables, "deal_owner", "deal_id", tenant, deal_id)

    def activity(self, tables: Tables, tenant: dict[str, Any], company: Company,
                 contact_id: uuid.UUID) -> None:  # fmt: skip
        rng = self.random
        kind = rng.choice(list(words.ACTIVITY_SUBJECTS))
        fill = {"name": rng.choice(words.MALE + words.FEMALE), "city": company.city[0],
                "product": rng.choice(words.PRODUCTS), "week": rng.randint(2, 51)}  # fmt: skip
        subject = rng.choice(words.ACTIVITY_SUBJECTS[kind]).format(**fill)
        body = " ".join(s.format(**fill) for s in rng.sample(words.SENTENCES, rng.randint(2, 4)))
        created = self.moment()
        due = created + timedelta(days=rng.randint(1, 30)) if kind in ("TASK", "FOLLOWUP") else None
        tables.add("activity", id=self.id(), tenant_id=tenant["id"], type=kind, subject=subject,
                   body=body, due_at=due, completed_at=created if due and rng.random() < 0.5 else None,
                   assignee_id=rng.choice(tenant["users"]), company_id=company.id,
                   contact_id=contact_id, created_at=created, updated_at=created)  # fmt: skip

    def contract(self, tables: Tables, tenant_id: uuid.UUID, company: Company) -> None:
        rng = self.random
        start = date(2024, 1, 1) + timedelta(days=rng.randint(0, 900))
        created = self.moment()
        tables.add("contract", id=self.id(), tenant_id=tenant_id, company_id=company.id,
                   title=f"{rng.choice(words.CONTRACTS)} {company.name}"[:200],
                   number=f"V-{start.year}-{self.clock:07d}", start_date=start,
                   end_date=start + timedelta(days=365 * rng.randint(1, 3)),
                   value=Decimal(rng.randint(10, 900)) * 100, currency="EUR",
                   status=rng.choice(("DRAFT", "ACTIVE", "ACTIVE", "EXPIRED", "TERMINATED")),
                   created_at=created, updated_at=created)  # fmt: skip


def fingerprint(scale: float, seed: int = SEED) -> str:
    """What the loaded tables are marked with (a comment on `tenant`): same seed and scale,
    same rows, so a second run reuses them."""
    companies = SearchGenerator(scale, seed).companies
    return f"bench S9 rows={ROWS_VERSION} seed={seed} scale={scale:g} companies={companies}"


async def load(database_url: str, scale: float, seed: int = SEED,
               chunk: int = 2000) -> dict[str, Any] | None:  # fmt: skip
    """COPY the generated rows into a migrated database (the owner's URL), replacing whatever
    the tenant tables held, in one transaction; None when they hold this seed and scale."""
    mark = fingerprint(scale, seed)
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        current = await connection.fetchval(
            "SELECT obj_description('tenant'::regclass, 'pg_class')"
        )
        if current == mark:
            return None
        started = time.monotonic()
        counts = dict.fromkeys(LOAD_ORDER, 0)
        async with connection.transaction():
            await connection.execute("TRUNCATE tenant CASCADE")
            chunks = SearchGenerator(scale, seed).chunks(chunk)
            # The next chunk is generated (in a thread) while PostgreSQL takes the last one.
            upcoming = asyncio.create_task(asyncio.to_thread(next, chunks, None))
            while (tables := await upcoming) is not None:
                upcoming = asyncio.create_task(asyncio.to_thread(next, chunks, None))
                for table in LOAD_ORDER:
                    if tables.rows[table]:
                        await connection.copy_records_to_table(
                            table, records=tables.rows[table], columns=list(tables.columns[table])
                        )
                        counts[table] += len(tables.rows[table])
            await connection.execute(f"COMMENT ON TABLE tenant IS '{mark}'")
        loaded = time.monotonic()
        await connection.execute("ANALYZE")
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {"rows": counts, "generate_and_copy_s": round(loaded - started, 1),
            "analyze_s": round(time.monotonic() - loaded, 1), "database_mb": size // 2**20}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the tables' owner's")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    print(asyncio.run(load(args.database_url, args.scale)) or "already loaded")


if __name__ == "__main__":
    main()
