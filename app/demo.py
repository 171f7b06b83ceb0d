"""seed-demo: a German B2B sales team's tenant, so GraphiQL shows something real.

Fills what is missing and changes nothing: every demo record is looked up by its natural key
first (a company by VAT id or name, a contact by company and name, a deal by company and
title, an activity by deal and subject, lookups and the pipeline by name, a stage by pipeline
and name, e-mails and phones by owner and value, owners by record and user, a relationship by
its pair and type, a contract by company and number; names case-insensitively) and inserted
only when it is not there. A second run adds nothing; a tenant with data of its own keeps it,
and a company of its own with a demo company's name or VAT id stands in for that company.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.data.row_values import stored_values
from app.data.tenancy import TenantScope
from app.data.unit_of_work import UnitOfWork
from app.services.contact_info.rules import phone_e164
from app.services.members.rules import MemberIdentity
from app.services.members.service import MemberDirectory
from models import (
    AccountType,
    Activity,
    ActivityType,
    Company,
    CompanyOwner,
    CompanyRelationship,
    CompanySize,
    Contact,
    ContactEmail,
    ContactOwner,
    ContactPhone,
    ContactSource,
    Contract,
    ContractStatus,
    Deal,
    DealOwner,
    DealStatus,
    EmailType,
    Industry,
    LostReason,
    PhoneType,
    Pipeline,
    PipelineStage,
    RelationshipType,
    StageKind,
)

COMPANIES = [
    (
        "Müller Maschinenbau GmbH",
        "DE811907980",
        "Stuttgart",
        "70173",
        "Königstraße 12",
        CompanySize.MEDIUM,
        "Maschinenbau",
    ),
    (
        "Schneider Logistik AG",
        "DE129273398",
        "Hamburg",
        "20457",
        "Am Sandtorkai 40",
        CompanySize.LARGE,
        "Logistik",
    ),
    (
        "Becker & Söhne KG",
        "DE147882240",
        "Köln",
        "50667",
        "Hohe Straße 88",
        CompanySize.SMALL,
        "Handel",
    ),
    (
        "Hoffmann Software GmbH",
        "DE263754114",
        "München",
        "80331",
        "Sendlinger Str. 7",
        CompanySize.SMALL,
        "IT-Dienstleistungen",
    ),
    (
        "Wagner Bau GmbH & Co. KG",
        "DE118715243",
        "Leipzig",
        "04109",
        "Markt 9",
        CompanySize.MEDIUM,
        "Bauwesen",
    ),
    (
        "Fischer Medizintechnik GmbH",
        "DE301558879",
        "Erlangen",
        "91052",
        "Nürnberger Str. 3",
        CompanySize.MICRO,
        "Medizintechnik",
    ),
]
# Each city's register court (Amtsgericht) and dialling code: valid identifiers, as
# app.services.common.identifiers checks them (tests/test_demo_identifiers.py).
COURTS = {"Erlangen": "Fürth", "Leipzig": "Leipzig", "Köln": "Köln"}
AREA_CODES = {
    "Stuttgart": "711",
    "Hamburg": "40",
    "Köln": "221",
    "München": "89",
    "Leipzig": "341",
    "Erlangen": "9131",
}
CONTACTS = [
    ("Herr", "Dr.", "Thomas", "Müller", "Geschäftsführer", "Geschäftsführung"),
    ("Frau", None, "Anna", "Schmidt", "Leiterin Einkauf", "Einkauf"),
    ("Herr", None, "Lukas", "Weber", "IT-Leiter", "IT"),
    ("Frau", "Prof.", "Julia", "Meyer", "Technische Direktorin", "Technik"),
]
STAGES = [
    ("Qualifizierung", 10, StageKind.OPEN),
    ("Bedarfsanalyse", 30, StageKind.OPEN),
    ("Angebot", 60, StageKind.OPEN),
    ("Verhandlung", 80, StageKind.OPEN),
    ("Gewonnen", 100, StageKind.WON),
    ("Verloren", 0, StageKind.LOST),
]


ACCOUNT_TYPES = ("Kunde", "Interessent", "Partner", "Lieferant")
# (from, to, type index, notes) between COMPANIES; contracts for the companies at CONTRACTS.
RELATIONSHIPS = ((0, 5, 0, "100 % Beteiligung"), (1, 2, 1, "Logistikpartner seit 2019"))
RELATIONSHIP_TYPES = (("Mutter", "Tochter"), ("Partner", "Partner"))
CONTRACTS = (0, 1, 3)
DEMO_ADMIN = "demo-admin@example.de"
# One seed-demo at a time per tenant: two at once would both find a record missing.
_SEED_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtext('insight-crm:seed-demo'), :key)")


async def seed_demo_tenant(sessions: async_sessionmaker[AsyncSession], slug: str) -> str:
    """Add the demo records the tenant lacks (creating the tenant if needed); says what it
    added."""
    ids = await MemberDirectory(sessions).resolve(
        MemberIdentity(slug, DEMO_ADMIN, DEMO_ADMIN, "Demo Admin", email_verified=True)
    )
    scope = TenantScope(ids.tenant_id, ids.user_id, sessions)
    async with scope.writing() as uow:
        await uow.execute(_SEED_LOCK, {"key": ids.tenant_id.int & 0x7FFF_FFFF})
        seeder = _Seeder(uow, scope)
        await seeder.seed()
    if not seeder.added:
        return f"tenant {slug!r} already holds all demo data; nothing added"
    rows = ", ".join(f"{table} {count}" for table, count in seeder.added.items())
    return f"seeded tenant {slug!r}: added {seeder.added.total()} rows ({rows})"


@dataclass(frozen=True)
class _Board:
    pipeline_id: uuid.UUID
    stages: list[tuple[uuid.UUID, StageKind]]  # in the order of STAGES


class _Seeder:
    """Looks each demo record up by its natural key and inserts it only when it is missing."""

    def __init__(self, uow: UnitOfWork, scope: TenantScope) -> None:
        self.uow = uow
        self.scope = scope
        self.added: Counter[str] = Counter()  # rows inserted, by table

    async def find(self, model: Any, **key: Any) -> uuid.UUID | None:
        """The id of a row of this tenant with these values (strings regardless of case)."""
        conditions = [
            sa.func.lower(getattr(model, name)) == sa.func.lower(value)
            if isinstance(value, str)
            else getattr(model, name) == value
            for name, value in key.items()
        ]
        found = await self.uow.execute(sa.select(col(model.id)).where(*conditions).limit(1))
        return found.scalar_one_or_none()

    async def ensure(self, model: Any, key: dict[str, Any], **values: Any) -> uuid.UUID:
        """The row found by `key`, else a new one with `key` and `values`."""
        existing = await self.find(model, **key)
        if existing is not None:
            return existing
        row_id = uuid.uuid4()
        row = self.scope.owned(id=row_id, **key, **values)
        await self.uow.execute(sa.insert(model).values(stored_values(model, row)))
        self.added[model.__tablename__] += 1
        return row_id

    async def ensure_reach(
        self, model: Any, owner: dict[str, uuid.UUID], value: str, **kw: Any
    ) -> None:
        """An e-mail or phone of a company or contact, primary if the owner has none yet."""
        column = "email" if model is ContactEmail else "phone"
        if column == "phone":  # its E.164 form beside it, as the services store it
            kw.setdefault("e164", phone_e164(value))
        has_primary = await self.find(model, **owner, is_primary=True) is not None
        await self.ensure(model, {**owner, column: value}, is_primary=not has_primary, **kw)

    async def seed(self) -> None:
        board = await self.board()
        account_types = [await self.ensure(AccountType, {"name": n}) for n in ACCOUNT_TYPES]
        industries = {
            spec[6]: await self.ensure(Industry, {"name": spec[6]}, color="#2F6FDE")
            for spec in COMPANIES
        }
        companies = [
            await self.company(index, spec, board, account_types[index % 4], industries[spec[6]])
            for index, spec in enumerate(COMPANIES)
        ]
        await self.network(companies)

    async def board(self) -> _Board:
        """The pipeline "Vertrieb" with its stages (the tenant's default if it has none)."""
        has_default = await self.find(Pipeline, is_default=True) is not None
        pipeline_id = await self.ensure(Pipeline, {"name": "Vertrieb"}, is_default=not has_default)
        last = await self.uow.execute(
            sa.select(sa.func.max(col(PipelineStage.position))).where(
                col(PipelineStage.pipeline_id) == pipeline_id
            )
        )
        position = (last.scalar_one_or_none() or 0) + 1
        stages = []
        for name, probability, kind in STAGES:
            key = {"pipeline_id": pipeline_id, "name": name}
            stage_id = await self.ensure(
                PipelineStage, key, position=position, probability=probability, kind=kind
            )
            position += 1
            stages.append((stage_id, await self.stage_kind(stage_id)))
        return _Board(pipeline_id, stages)

    async def stage_kind(self, stage_id: uuid.UUID) -> StageKind:
        """A stage's kind as it is (a tenant's own stage named like a demo one may differ)."""
        found = await self.uow.execute(
            sa.select(col(PipelineStage.kind)).where(col(PipelineStage.id) == stage_id)
        )
        return StageKind(found.scalar_one())

    async def company(
        self,
        index: int,
        spec: tuple[Any, ...],
        board: _Board,
        account_type_id: uuid.UUID,
        industry_id: uuid.UUID,
    ) -> uuid.UUID:
        name, vat_id, city, zip_code, street, size, _ = spec
        domain = name.split()[0].lower().replace("ü", "ue").replace("ö", "oe").replace("&", "")
        company_id = await self.find(Company, vat_id=vat_id) or await self.ensure(
            Company,
            {"name": name},
            vat_id=vat_id,
            company_size=size,
            website=f"https://www.{domain}.de",
            industry_id=industry_id,
            account_type_id=account_type_id,
            billing_address={
                "street": street,
                "supplement": None,
                "zip": zip_code,
                "city": city,
                "country_code": "DE",
            },
            tags=["ERP"] if index % 2 == 0 else ["Newsletter"],
            trade_register_number=f"HRB {10000 + index * 137}",
            register_court=COURTS.get(city, city),
        )
        owner = {"company_id": company_id}
        await self.ensure_reach(ContactEmail, owner, f"info@{domain}.de")
        await self.ensure_reach(ContactPhone, owner, f"+49 {AREA_CODES[city]} 12345{index}-0")
        await self.ensure(CompanyOwner, {**owner, "user_id": self.scope.actor_id})
        contact_id = await self.contact(index, company_id, domain)
        await self.deal(index, company_id, contact_id, board)
        return company_id

    async def contact(self, index: int, company_id: uuid.UUID, domain: str) -> uuid.UUID:
        """The company's contact person, with e-mail, mobile number and the demo admin as owner."""
        salutation, title, first, last, position, department = CONTACTS[index % len(CONTACTS)]
        contact_id = await self.ensure(
            Contact,
            {"company_id": company_id, "first_name": first, "last_name": last},
            salutation=salutation,
            title=title,
            position=position,
            department=department,
            source=ContactSource.TRADE_FAIR if index % 2 else ContactSource.REFERRAL,
            linkedin_url=f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}",
            birthday=date(1970 + index * 3, 1 + index, 10 + index),
        )
        owner = {"contact_id": contact_id}
        email = f"{first.lower()}.{last.lower()}@{domain}.de"
        await self.ensure_reach(ContactEmail, owner, email, type=EmailType.WORK)
        await self.ensure_reach(
            ContactPhone, owner, f"+49 171 555{index}0{index}0", type=PhoneType.MOBILE
        )
        await self.ensure(ContactOwner, {**owner, "user_id": self.scope.actor_id})
        return contact_id

    async def deal(
        self, index: int, company_id: uuid.UUID, contact_id: uuid.UUID, board: _Board
    ) -> None:
        stage_id, kind = board.stages[index % len(STAGES)]
        status = {StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}.get(
            kind, DealStatus.OPEN
        )
        deal_id = await self.ensure(
            Deal,
            {
                "company_id": company_id,
                "title": f"Rahmenvertrag {2027 + index % 2} - Los {index + 1}",
            },
            value=Decimal(12500 * (index + 1)),
            currency="EUR",
            pipeline_id=board.pipeline_id,
            stage_id=stage_id,
            contact_id=contact_id,
            status=status,
            lost_reason=LostReason.PRICE if status is DealStatus.LOST else None,
            closed_at=None if status is DealStatus.OPEN else datetime.now(UTC),
            expected_close_date=date.today() + timedelta(days=30 * (index + 1)),
        )
        await self.ensure(DealOwner, {"deal_id": deal_id, "user_id": self.scope.actor_id})
        await self.activities(index, company_id, contact_id, deal_id)

    async def activities(
        self, index: int, company_id: uuid.UUID, contact_id: uuid.UUID, deal_id: uuid.UUID
    ) -> None:
        """A call that happened and a follow-up that is due soon."""
        now = datetime.now(UTC)
        links = {"company_id": company_id, "contact_id": contact_id}
        actor = self.scope.actor_id
        await self.ensure(
            Activity,
            {"deal_id": deal_id, "subject": "Erstgespräch"},
            type=ActivityType.CALL,
            body="Bedarf und Budget geklärt.",
            completed_at=now - timedelta(days=7),
            assignee_id=actor,
            **links,
        )
        await self.ensure(
            Activity,
            {"deal_id": deal_id, "subject": "Angebot nachfassen"},
            type=ActivityType.FOLLOWUP,
            due_at=now + timedelta(hours=6 + index * 12),
            assignee_id=actor,
            **links,
        )

    async def network(self, companies: list[uuid.UUID]) -> None:
        """Relationships between the demo companies, and their service contracts."""
        kinds = [
            await self.ensure(RelationshipType, {"name": name}, inverse_name=inverse)
            for name, inverse in RELATIONSHIP_TYPES
        ]
        for source, target, kind, notes in RELATIONSHIPS:
            pair = (companies[source], companies[target])
            if pair[0] == pair[1]:  # one company of the tenant's stands in for both
                continue
            reverse = {"from_company_id": pair[1], "to_company_id": pair[0]}
            if await self.find(CompanyRelationship, **reverse, relationship_type_id=kinds[kind]):
                continue
            await self.ensure(
                CompanyRelationship,
                {
                    "from_company_id": pair[0],
                    "to_company_id": pair[1],
                    "relationship_type_id": kinds[kind],
                },
                notes=notes,
            )
        for index in CONTRACTS:
            await self.ensure(
                Contract,
                {"company_id": companies[index], "number": f"WV-2027-{index + 1:03}"},
                title="Wartungsvertrag",
                start_date=date(2027, 1, 1),
                end_date=date(2027, 12, 31),
                value=Decimal(4800 * (index + 1)),
                status=ContractStatus.ACTIVE,
            )
