"""seed-demo: a German B2B sales team's tenant, so GraphiQL shows something real.

Idempotent: a tenant that already has companies is left as it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.services.members import MemberDirectory, MemberIdentity
from app.tenancy import TenantScope
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
        "DE147882245",
        "Köln",
        "50667",
        "Hohe Straße 88",
        CompanySize.SMALL,
        "Handel",
    ),
    (
        "Hoffmann Software GmbH",
        "DE263754119",
        "München",
        "80331",
        "Sendlinger Str. 7",
        CompanySize.SMALL,
        "IT-Dienstleistungen",
    ),
    (
        "Wagner Bau GmbH & Co. KG",
        "DE118715245",
        "Leipzig",
        "04109",
        "Markt 9",
        CompanySize.MEDIUM,
        "Bauwesen",
    ),
    (
        "Fischer Medizintechnik GmbH",
        "DE301558873",
        "Erlangen",
        "91052",
        "Nürnberger Str. 3",
        CompanySize.MICRO,
        "Medizintechnik",
    ),
]
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


async def seed_demo_tenant(sessions: async_sessionmaker[AsyncSession], slug: str) -> str:
    ids = await MemberDirectory(sessions).resolve(
        MemberIdentity(slug, "demo-admin@example.de", "demo-admin@example.de", "Demo Admin")
    )
    scope = TenantScope(ids.tenant_id, ids.user_id, sessions)
    async with scope.writing() as session:
        existing = await session.execute(sa.select(sa.func.count()).select_from(Company))
        if existing.scalar_one():
            return f"tenant {slug!r} already has data; left unchanged"
        board = await _pipeline(session, scope)
        account_types = [
            await _insert(session, AccountType, scope, name=name) for name in ACCOUNT_TYPES
        ]
        company_ids = [
            await _company(session, scope, index, spec, board, account_types[index % 4])
            for index, spec in enumerate(COMPANIES)
        ]
        await _network(session, scope, company_ids)
    return (
        f"seeded tenant {slug!r}: {len(COMPANIES)} companies with contacts, deals, activities, "
        "relationships and contracts"
    )


ACCOUNT_TYPES = ("Kunde", "Interessent", "Partner", "Lieferant")


async def _network(session: AsyncSession, scope: TenantScope, companies: list[uuid.UUID]) -> None:
    """Relationships between the demo companies, and their service contracts."""
    parent = await _insert(session, RelationshipType, scope, name="Mutter", inverse_name="Tochter")
    partner = await _insert(
        session, RelationshipType, scope, name="Partner", inverse_name="Partner"
    )
    links = ((0, 5, parent, "100 % Beteiligung"), (1, 2, partner, "Logistikpartner seit 2019"))
    for source, target, kind, notes in links:
        await _insert(
            session,
            CompanyRelationship,
            scope,
            from_company_id=companies[source],
            to_company_id=companies[target],
            relationship_type_id=kind,
            notes=notes,
        )
    for index in (0, 1, 3):
        await _insert(
            session,
            Contract,
            scope,
            company_id=companies[index],
            title="Wartungsvertrag",
            number=f"WV-2027-{index + 1:03}",
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            value=Decimal(4800 * (index + 1)),
            status=ContractStatus.ACTIVE,
        )


async def _insert(
    session: AsyncSession, model: Any, scope: TenantScope, **values: Any
) -> uuid.UUID:
    row_id = uuid.uuid4()
    await session.execute(sa.insert(model).values(scope.owned(id=row_id, **values)))
    return row_id


@dataclass(frozen=True)
class _Board:
    pipeline_id: uuid.UUID
    stage_ids: list[uuid.UUID]


async def _pipeline(session: AsyncSession, scope: TenantScope) -> _Board:
    pipeline_id = await _insert(session, Pipeline, scope, name="Vertrieb", is_default=True)
    stage_ids = []
    for position, (name, probability, kind) in enumerate(STAGES):
        stage_ids.append(
            await _insert(
                session,
                PipelineStage,
                scope,
                pipeline_id=pipeline_id,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
            )
        )
    return _Board(pipeline_id, stage_ids)


async def _company(
    session: AsyncSession,
    scope: TenantScope,
    index: int,
    spec: tuple[Any, ...],
    board: _Board,
    account_type_id: uuid.UUID,
) -> uuid.UUID:
    name, vat_id, city, zip_code, street, size, industry = spec
    industry_id = await _industry(session, scope, industry)
    domain = name.split()[0].lower().replace("ü", "ue").replace("ö", "oe").replace("&", "")
    company_id = await _insert(
        session,
        Company,
        scope,
        name=name,
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
    )
    await _company_reach(session, scope, index, company_id, domain)
    contact_id = await _contact(session, scope, index, company_id, domain)
    await _deal(session, scope, index, company_id, contact_id, board)
    return company_id


async def _company_reach(
    session: AsyncSession, scope: TenantScope, index: int, company_id: uuid.UUID, domain: str
) -> None:
    """The company's switchboard e-mail and phone, and the demo admin as its owner."""
    await _insert(
        session,
        ContactEmail,
        scope,
        company_id=company_id,
        email=f"info@{domain}.de",
        is_primary=True,
    )
    await _insert(
        session,
        ContactPhone,
        scope,
        company_id=company_id,
        phone=f"+49 {30 + index} 123456-0",
        is_primary=True,
    )
    await _insert(session, CompanyOwner, scope, company_id=company_id, user_id=scope.actor_id)


async def _contact(
    session: AsyncSession, scope: TenantScope, index: int, company_id: uuid.UUID, domain: str
) -> uuid.UUID:
    """The company's contact person, with e-mail, mobile number and the demo admin as owner."""
    salutation, title, first, last, position, department = CONTACTS[index % len(CONTACTS)]
    contact_id = await _insert(
        session,
        Contact,
        scope,
        salutation=salutation,
        title=title,
        first_name=first,
        last_name=last,
        position=position,
        department=department,
        company_id=company_id,
        source=ContactSource.TRADE_FAIR if index % 2 else ContactSource.REFERRAL,
        linkedin_url=f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}",
        birthday=date(1970 + index * 3, 1 + index, 10 + index),
    )
    await _insert(
        session,
        ContactEmail,
        scope,
        contact_id=contact_id,
        email=f"{first.lower()}.{last.lower()}@{domain}.de",
        type=EmailType.WORK,
        is_primary=True,
    )
    await _insert(
        session,
        ContactPhone,
        scope,
        contact_id=contact_id,
        phone=f"+49 171 55{index}0{index}",
        type=PhoneType.MOBILE,
        is_primary=True,
    )
    await _insert(session, ContactOwner, scope, contact_id=contact_id, user_id=scope.actor_id)
    return contact_id


async def _industry(session: AsyncSession, scope: TenantScope, name: str) -> uuid.UUID:
    found = await session.execute(
        sa.select(col(Industry.id)).where(sa.func.lower(col(Industry.name)) == name.lower())
    )
    existing = found.scalar_one_or_none()
    return existing or await _insert(session, Industry, scope, name=name, color="#2F6FDE")


async def _deal(
    session: AsyncSession,
    scope: TenantScope,
    index: int,
    company_id: uuid.UUID,
    contact_id: uuid.UUID,
    board: _Board,
) -> None:
    stage_index = index % len(STAGES)
    status = {StageKind.WON: DealStatus.WON, StageKind.LOST: DealStatus.LOST}.get(
        STAGES[stage_index][2], DealStatus.OPEN
    )
    deal_id = await _insert(
        session,
        Deal,
        scope,
        title=f"Rahmenvertrag {2027 + index % 2} - Los {index + 1}",
        value=Decimal(12500 * (index + 1)),
        currency="EUR",
        pipeline_id=board.pipeline_id,
        stage_id=board.stage_ids[stage_index],
        company_id=company_id,
        contact_id=contact_id,
        status=status,
        lost_reason=LostReason.PRICE if status is DealStatus.LOST else None,
        expected_close_date=date.today() + timedelta(days=30 * (index + 1)),
    )
    await _insert(session, DealOwner, scope, deal_id=deal_id, user_id=scope.actor_id)
    links = {"company_id": company_id, "contact_id": contact_id, "deal_id": deal_id}
    await _activities(session, scope, index, links)


async def _activities(
    session: AsyncSession, scope: TenantScope, index: int, links: dict[str, uuid.UUID]
) -> None:
    """A call that happened and a follow-up that is due soon."""
    now = datetime.now(UTC)
    await _insert(
        session,
        Activity,
        scope,
        type=ActivityType.CALL,
        subject="Erstgespräch",
        body="Bedarf und Budget geklärt.",
        **links,
        completed_at=now - timedelta(days=7),
        assignee_id=scope.actor_id,
    )
    await _insert(
        session,
        Activity,
        scope,
        type=ActivityType.FOLLOWUP,
        subject="Angebot nachfassen",
        **links,
        due_at=now + timedelta(hours=6 + index * 12),
        assignee_id=scope.actor_id,
    )
