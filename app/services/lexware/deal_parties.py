"""Whose a voucher is, checked against a deal: a voucher belongs to one Lexware contact, and a
deal's customer is its company and its contact, each linked to at most one Lexware contact.

A voucher linked to a deal belongs to the deal's customer, and stays so: linking one of
another customer, of Lexware's collective contact, or to a deal whose customer is not linked
to Lexware (nothing to check against) is refused (BAD_USER_INPUT), and so is a change that
would leave a linked voucher with another customer (CONFLICT naming the vouchers): a deal's
new company or contact, a company or contact linked to another Lexware contact or unlinked.
Deleting a company or contact keeps its deals' voucher links.

Locks, in one order everywhere: the deal, then its company, then its contact (a company's
delete detaches its deals before its contacts, and then deletes it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.util.typing import TupleAny
from sqlmodel import col

from app.data.unit_of_work import UnitOfWork
from app.errors import BadUserInput, Conflict, FieldProblem, NotFound
from app.services.lexware.rows import VoucherRow
from models import Company, Contact, Deal, DealVoucher, LexwareVoucher

MAX_NAMED = 5  # vouchers a refusal names in its message (all are in its extensions)


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

    def owns(self, voucher_contact: uuid.UUID | None) -> bool:
        """Whether a voucher of this Lexware contact belongs to the deal's customer."""
        linked = {p.lexware_contact_id for p in self.parties} - {None}
        return voucher_contact is not None and voucher_contact in linked


async def deal_parties(uow: UnitOfWork, deal_id: uuid.UUID) -> DealParties:
    """The deal's company and contact with their Lexware links, held (FOR SHARE) until the
    link is stored, so that neither changes in between."""
    statement = (
        sa.select(col(Deal.company_id), col(Deal.contact_id))
        .where(col(Deal.id) == deal_id)
        .with_for_update(read=True)
    )
    deal = (await uow.execute(statement)).first()
    if deal is None:
        raise NotFound("Deal")
    return await parties_of(uow, deal_id, deal.company_id, deal.contact_id)


async def parties_of(
    uow: UnitOfWork,
    deal_id: uuid.UUID,
    company_id: uuid.UUID | None,
    contact_id: uuid.UUID | None,
) -> DealParties:
    """A deal's company and contact (held FOR SHARE), after the deal itself is held."""
    company = contact = None
    if company_id is not None:
        name, lexware = await _row(uow, Company, company_id, col(Company.name))
        company = Party("company", company_id, name, lexware)
    if contact_id is not None:
        names = sa.func.concat_ws(" ", col(Contact.first_name), col(Contact.last_name))
        name, lexware = await _row(uow, Contact, contact_id, names)
        contact = Party("contact", contact_id, name, lexware)
    return DealParties(deal_id, company, contact)


async def _row(
    uow: UnitOfWork, model: Any, row_id: uuid.UUID, name: Any
) -> tuple[str, uuid.UUID | None]:
    statement = (
        sa.select(name, col(model.lexware_contact_id))
        .where(col(model.id) == row_id)
        .with_for_update(read=True)
    )
    row = (await uow.execute(statement)).first()
    if row is None:
        raise NotFound(model.__name__)
    return row[0], row[1]


def _held_vouchers() -> sa.Select[*TupleAny]:
    return (
        sa.select(
            col(LexwareVoucher.id),
            col(LexwareVoucher.voucher_number),
            col(LexwareVoucher.lexware_contact_id),
            col(LexwareVoucher.contact_name),
            col(Deal.id).label("deal_id"),
            col(Deal.title).label("deal_title"),
            col(Deal.company_id),
            col(Deal.contact_id),
        )
        .join(DealVoucher, col(DealVoucher.voucher_id) == col(LexwareVoucher.id))
        .join(Deal, col(Deal.id) == col(DealVoucher.deal_id))
        .order_by(col(Deal.id), col(LexwareVoucher.voucher_number), col(LexwareVoucher.id))
    )


async def check_deal_change(
    uow: UnitOfWork,
    deal_id: uuid.UUID,
    company_id: uuid.UUID | None,
    contact_id: uuid.UUID | None,
) -> None:
    """A deal (held FOR UPDATE) gets this company and contact: CONFLICT if a voucher linked to
    it would no longer belong to its customer."""
    held = (await uow.execute(_held_vouchers().where(col(Deal.id) == deal_id))).all()
    if not held:
        return
    parties = await parties_of(uow, deal_id, company_id, contact_id)
    _refuse_left_behind([v for v in held if not parties.owns(v.lexware_contact_id)])


async def check_link_change(
    uow: UnitOfWork, kind: str, record_id: uuid.UUID, lexware_id: uuid.UUID | None
) -> None:
    """A company or contact (held: its row was just written) is now linked to `lexware_id`
    (None: unlinked): CONFLICT if a voucher linked to one of its deals would no longer belong
    to that deal's customer (this record's new link or the deal's other party's)."""
    mine, other_model = (
        (Deal.company_id, Contact) if kind == "company" else (Deal.contact_id, Company)
    )
    held = (await uow.execute(_held_vouchers().where(col(mine) == record_id))).all()
    if not held:
        return
    other_column = "contact_id" if kind == "company" else "company_id"
    others = {getattr(v, other_column) for v in held} - {None}
    statement = sa.select(col(other_model.id), col(other_model.lexware_contact_id)).where(
        col(other_model.id).in_(others)
    )
    links = {row[0]: row[1] for row in await uow.execute(statement)} if others else {}
    left = [
        v
        for v in held
        if v.lexware_contact_id not in {lexware_id, links.get(getattr(v, other_column))} - {None}
    ]
    _refuse_left_behind(left)


def _refuse_left_behind(left: list[Any]) -> None:
    if not left:
        return
    named = "; ".join(
        f'{v.voucher_number or v.id} of "{v.contact_name or v.lexware_contact_id or "-"}" '
        f'on the deal "{v.deal_title}"'
        for v in left[:MAX_NAMED]
    )
    more = f" and {len(left) - MAX_NAMED} more" if len(left) > MAX_NAMED else ""
    message = (
        f"Vouchers linked to a deal would no longer belong to its customer: {named}{more}. "
        "Unlink them from the deal first (unlinkVoucherFromDeal)."
    )
    vouchers = [
        {
            "id": str(v.id),
            "voucherNumber": v.voucher_number,
            "lexwareContactId": None if v.lexware_contact_id is None else str(v.lexware_contact_id),
            "dealId": str(v.deal_id),
        }
        for v in left
    ]
    raise Conflict(message, vouchers=vouchers)


def check(voucher: VoucherRow, deal: DealParties) -> None:
    """BAD_USER_INPUT naming the voucher's Lexware contact and the deal's customer, unless the
    voucher belongs to the Lexware contact of the deal's company or contact."""
    if deal.owns(voucher.lexware_contact_id):
        return
    linked = [p for p in deal.parties if p.lexware_contact_id is not None]
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


def _refused(message: str, voucher: VoucherRow, deal: DealParties) -> BadUserInput:
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
