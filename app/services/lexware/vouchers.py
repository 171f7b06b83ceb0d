"""Lexware vouchers (invoices, quotations, credit notes, ...) cached in the CRM, shown on
companies, contacts and deals, and linked to deals by hand.

The cache holds the tenant's vouchers keyed by Lexware id; a company or contact sees those of
the Lexware contact it is linked to. A refresh pages through /v1/voucherlist (every page).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col

from app.data import records
from app.data.records import Entity
from app.data.sort_keys import related, timestamp_key
from app.data.tenancy import TenantScope
from app.errors import BadUserInput, Conflict, NotFound
from app.lexware import mapping
from app.lexware.client import LexwareClient
from app.services.lexware import deal_parties as lexware_deal_parties
from app.services.lexware.contacts import RecordKind
from app.services.lexware.rows import DealVoucherRow, LinkedRow, VoucherRow
from models import DealVoucher, LexwareVoucher

log = logging.getLogger(__name__)
VOUCHER = Entity(LexwareVoucher, "Voucher", row=VoucherRow)
DEAL_VOUCHER = Entity(
    DealVoucher,
    "Voucher link",
    {
        "uq_deal_voucher_tenant_id_deal_id_voucher_id": lambda: Conflict(
            "This voucher is already linked to the deal."
        ),
        "fk_deal_voucher_deal_id_deal": lambda: NotFound("Deal"),
        "fk_deal_voucher_voucher_id_lexware_voucher": lambda: NotFound("Voucher"),
    },
    row=DealVoucherRow,
)
PAGE_SIZE = 250
MAX_PAGES = 400  # 100,000 vouchers: a bound, not a limit anyone should meet
# Deep-link path of each voucher type in the Lexware web app.
WEB_APP_PATHS = {
    "invoice": "invoices",
    "downpaymentinvoice": "invoices",
    "creditnote": "credit-notes",
    "quotation": "quotations",
    "orderconfirmation": "order-confirmations",
    "deliverynote": "delivery-notes",
    "dunning": "dunnings",
}


def web_app_path(voucher_type: str) -> str:
    return WEB_APP_PATHS.get(voucher_type, "vouchers")


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _clipped(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _cached(item: Mapping[str, Any]) -> dict[str, Any]:
    """A voucherlist item as the cache holds it; its texts arrive HTML-escaped (`&amp;`)."""
    contact = item.get("contactId")
    return {
        "lexware_voucher_id": uuid.UUID(item["id"]),
        "voucher_type": str(item.get("voucherType"))[:30],
        "voucher_status": str(item.get("voucherStatus"))[:30],
        "voucher_number": _clipped(mapping.text(item.get("voucherNumber")), 50),
        "voucher_date": _when(item.get("voucherDate")),
        "due_date": _when(item.get("dueDate")),
        "contact_name": _clipped(mapping.text(item.get("contactName")), 255),
        "total_amount": _money(item.get("totalAmount")),
        "open_amount": _money(item.get("openAmount")),
        "currency": str(item.get("currency") or "EUR")[:3],
        "lexware_contact_id": uuid.UUID(contact) if contact else None,
        "lexware_updated_at": _when(item.get("updatedDate")),
    }


def _readable(items: list[Any]) -> list[dict[str, Any]]:
    readable = []
    for item in items:
        try:
            readable.append(_cached(item))
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            log.warning("skipping a voucher Lexware sent that cannot be read: %r", error)
    return readable


async def store_vouchers(scope: TenantScope, items: list[Any]) -> int:
    """Upsert a page of voucherlist items into the cache."""
    rows = [scope.owned(**item) for item in _readable(items)]
    if not rows:
        return 0
    statement = pg_insert(LexwareVoucher).values(rows)
    changed = {
        name: statement.excluded[name]
        for name in rows[0]
        if name not in ("tenant_id", "lexware_voucher_id")
    }
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "lexware_voucher_id"],
        set_={**changed, "updated_at": sa.func.now()},
    )
    async with scope.writing() as uow:
        await uow.execute(statement)
    return len(rows)


async def fetch_all(client: LexwareClient, scope: TenantScope, filters: Mapping[str, Any]) -> int:
    """Page through the voucherlist with these filters, caching every page: how many."""
    stored, page = 0, 0
    while page < MAX_PAGES:
        params = {"voucherType": "any", "voucherStatus": "any", **filters}
        found = await client.get("/v1/voucherlist", {**params, "page": page, "size": PAGE_SIZE})
        stored += await store_vouchers(scope, list(found.get("content") or []))
        if found.get("last", True):
            break
        page += 1
    return stored


async def refresh_for(
    client: LexwareClient, scope: TenantScope, kind: RecordKind[LinkedRow], record_id: uuid.UUID
) -> int:
    """All vouchers of the record's Lexware contact, fresh from Lexware."""
    row = await records.get_row(scope, kind.entity, record_id)
    if row.lexware_contact_id is None:
        raise BadUserInput.single("id", "is not linked to Lexware")
    return await fetch_all(client, scope, {"contactId": str(row.lexware_contact_id)})


# Newest voucher first (by its date; undated last): a company's or contact's vouchers by the
# voucher's own date, a deal's links by their voucher's. The nested connections' one order
# (resolvers/lexware/vouchers.py), ties by the listed row's id.
VOUCHER_BY_DATE = timestamp_key("voucherDate", col(LexwareVoucher.voucher_date), nullable=True)
LINK_BY_VOUCHER_DATE = timestamp_key(
    "voucherDate",
    related(col(LexwareVoucher.voucher_date), col(LexwareVoucher.id), col(DealVoucher.voucher_id)),
    nullable=True,
)


async def link_to_deal(scope: TenantScope, deal_id: uuid.UUID, voucher_id: uuid.UUID) -> None:
    """Only a voucher of the deal's customer: the Lexware contact of the deal's company or of
    its contact. One that cannot be checked (a deal without either linked to Lexware, a
    voucher of the collective contact) is refused too."""
    with records.constraint_errors(DEAL_VOUCHER.constraint_errors):
        async with scope.writing() as uow:
            deal = await lexware_deal_parties.deal_parties(uow, deal_id)
            voucher = await records.get_row_in(uow, VOUCHER, voucher_id, lock=False)
            lexware_deal_parties.check(voucher, deal)
            values = scope.owned(
                deal_id=deal_id, voucher_id=voucher_id, linked_by_id=scope.actor_id
            )
            await uow.execute(sa.insert(DealVoucher).values(values))
            uow.record("crm.deal.voucher_linked", "deal", deal_id, _voucher_facts(voucher, True))


async def unlink_from_deal(scope: TenantScope, deal_id: uuid.UUID, voucher_id: uuid.UUID) -> None:
    statement = (
        sa.delete(DealVoucher)
        .where(col(DealVoucher.deal_id) == deal_id, col(DealVoucher.voucher_id) == voucher_id)
        .returning(col(DealVoucher.id))
        .execution_options(synchronize_session=False)
    )
    async with scope.writing() as uow:
        if (await uow.execute(statement)).first() is None:
            raise NotFound("Voucher link")
        voucher = await records.get_row_in(uow, VOUCHER, voucher_id, lock=False)
        uow.record("crm.deal.voucher_unlinked", "deal", deal_id, _voucher_facts(voucher, False))


def _voucher_facts(voucher: VoucherRow, linked: bool) -> dict[str, Any]:
    facts = {"voucherId": str(voucher.id), "voucherNumber": voucher.voucher_number}
    return {k: [None, v] if linked else [v, None] for k, v in facts.items()}
