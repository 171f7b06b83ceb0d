"""Whose a voucher is, checked against a deal before they are linked: a voucher belongs to one
Lexware contact, and a deal's customer is its company and its contact, each linked to at most
one Lexware contact. A voucher of another customer, of Lexware's collective contact, or for a
deal whose customer is not linked to Lexware (nothing to check against) is refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import BadUserInput, FieldProblem, NotFound
from models import Company, Contact, Deal


@dataclass(frozen=True)
class Party:
    """The deal's company or contact, as a voucher is matched against it."""

    kind: str  # "company" or "contact"
    id: uuid.UUID
    name: str
    lexware_contact_id: uuid.UUID | None

    def facts(self) -> dict[str, Any]:
        lexware = self.lexware_contact_id
        return {
            "id": str(self.id),
            "name": self.name,
            "lexwareContactId": None if lexware is None else str(lexware),
        }


@dataclass(frozen=True)
class DealParties:
    deal_id: uuid.UUID
    company: Party | None
    contact: Party | None

    @property
    def parties(self) -> list[Party]:
        return [p for p in (self.company, self.contact) if p is not None]

    def facts(self) -> dict[str, Any]:
        deal: dict[str, Any] = {"id": str(self.deal_id)}
        for party in self.parties:
            deal[party.kind] = party.facts()
        return deal


async def deal_parties(session: AsyncSession, deal_id: uuid.UUID) -> DealParties:
    """The deal's company and contact with their Lexware links, held (FOR SHARE) until the
    link is stored, so that neither changes in between."""
    statement = (
        sa.select(col(Deal.company_id), col(Deal.contact_id))
        .where(col(Deal.id) == deal_id)
        .with_for_update(read=True)
    )
    deal = (await session.execute(statement)).first()
    if deal is None:
        raise NotFound("Deal")
    company = contact = None
    if deal.company_id is not None:
        name, lexware = await _row(session, Company, deal.company_id, col(Company.name))
        company = Party("company", deal.company_id, name, lexware)
    if deal.contact_id is not None:
        names = sa.func.concat_ws(" ", col(Contact.first_name), col(Contact.last_name))
        name, lexware = await _row(session, Contact, deal.contact_id, names)
        contact = Party("contact", deal.contact_id, name, lexware)
    return DealParties(deal_id, company, contact)


async def _row(
    session: AsyncSession, model: Any, row_id: uuid.UUID, name: Any
) -> tuple[str, uuid.UUID | None]:
    statement = (
        sa.select(name, col(model.lexware_contact_id))
        .where(col(model.id) == row_id)
        .with_for_update(read=True)
    )
    row = (await session.execute(statement)).one()
    return row[0], row[1]


def check(voucher: Row[Any], deal: DealParties) -> None:
    """BAD_USER_INPUT naming the voucher's Lexware contact and the deal's customer, unless the
    voucher belongs to the Lexware contact of the deal's company or contact."""
    linked = [p for p in deal.parties if p.lexware_contact_id is not None]
    if voucher.lexware_contact_id is not None and any(
        p.lexware_contact_id == voucher.lexware_contact_id for p in linked
    ):
        return
    number = voucher.voucher_number or str(voucher.lexware_voucher_id)
    if voucher.lexware_contact_id is None:
        message = (
            f"Voucher {number} belongs to Lexware's collective contact, not to a customer: "
            "it cannot be checked against the deal's company or contact."
        )
    elif not deal.parties:
        message = (
            "The deal has neither a company nor a contact, so the voucher cannot be checked: "
            "set the deal's company (linked to Lexware) first."
        )
    elif not linked:
        who = _who(deal.parties)
        unlinked = (
            f"Neither {who} is" if len(deal.parties) > 1 else f"{who[0].upper()}{who[1:]} is not"
        )
        message = f"{unlinked} linked to Lexware, so the voucher cannot be checked: link it first."
    else:
        owner = voucher.contact_name or str(voucher.lexware_contact_id)
        message = f'Voucher {number} belongs to Lexware contact "{owner}", not to {_who(linked)}.'
    raise _refused(message, voucher, deal)


def _who(parties: list[Party]) -> str:
    """'the deal's company "Acme GmbH" nor its contact "Inge Muster"'"""
    owners = ("the deal's", "its")
    return " nor ".join(f'{owners[min(i, 1)]} {p.kind} "{p.name}"' for i, p in enumerate(parties))


def _refused(message: str, voucher: Row[Any], deal: DealParties) -> BadUserInput:
    error = BadUserInput([FieldProblem("voucherId", message)], message)
    lexware = voucher.lexware_contact_id
    error.details["voucher"] = {
        "id": str(voucher.id),
        "voucherNumber": voucher.voucher_number,
        "lexwareContactId": None if lexware is None else str(lexware),
        "contactName": voucher.contact_name,
    }
    error.details["deal"] = deal.facts()
    return error
