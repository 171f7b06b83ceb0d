"""`/v1/voucherlist` ("Retrieve and Filter Voucherlist") and the voucher detail endpoints
("Retrieve an Invoice", ...) of the fake. Errors use the regular format ("Error Codes": "Regular
error response")."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiohttp import web

from fake_lexware.formats import (
    BadQuery,
    Json,
    day_range,
    format_datetime,
    format_optional,
    now,
    page_envelope,
    parse_bool,
    parse_day,
    parse_paging,
    regular_bad_query,
    regular_error,
    single_params,
    sort_descriptor,
)
from fake_lexware.records import (
    BOOKKEEPING_TYPES,
    DETAIL_COLLECTIONS,
    VOUCHER_STATUSES,
    VOUCHER_TYPES,
    StoredVoucher,
)
from fake_lexware.store import org_of

# Values of one key are all datetimes or all strings, so any comparison stays within one type.
SORT_KEYS: dict[str, Callable[[StoredVoucher], Any]] = {
    "voucherDate": lambda v: v.voucher_date,
    "voucherNumber": lambda v: v.number,
    "createdDate": lambda v: v.created,
    "updatedDate": lambda v: v.updated,
}
DATE_FILTERS: dict[str, Callable[[StoredVoucher], datetime]] = {
    "voucherDate": lambda v: v.voucher_date,
    "createdDate": lambda v: v.created,
    "updatedDate": lambda v: v.updated,
}
DEFAULT_SORT = (("voucherDate", False),)  # the docs' sample: voucherDate DESC
TAX_RATE = 19  # details split the seeded gross total at 19 % VAT (the fake's choice)
TITLES = {"invoice": "Rechnung", "downpaymentinvoice": "Abschlagsrechnung"}
TITLES |= {"creditnote": "Rechnungskorrektur", "quotation": "Angebot", "dunning": "Mahnung"}
TITLES |= {"orderconfirmation": "Auftragsbestätigung", "deliverynote": "Lieferschein"}

DateRange = tuple[Callable[[StoredVoucher], datetime], datetime | None, datetime | None]


def _choices(
    params: Mapping[str, str], name: str, allowed: frozenset[str]
) -> frozenset[str] | None:
    """A required comma list of `allowed` values, or the literal `any` (None: no restriction)."""
    raw = params.get(name, "").strip()
    if not raw:
        message = (
            f"Required request parameter '{name}' for method parameter type String is not present"
        )
        raise BadQuery(message, name, "NOTNULL")
    values = [value.strip().lower() for value in raw.split(",")]
    if values == ["any"]:
        return None
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise BadQuery(f"{name} has unknown values: {', '.join(unknown)}", name)
    return frozenset(values)


def _sort(values: list[str]) -> tuple[tuple[str, bool], ...]:
    """`sort=prop[,ASC|DESC]`, repeatable; without a direction Spring sorts ascending."""
    keys: list[tuple[str, bool]] = []
    for value in values:
        prop, _, direction = value.partition(",")
        if prop not in SORT_KEYS or direction.upper() not in ("", "ASC", "DESC"):
            raise BadQuery(f"cannot sort by {value!r}", "sort")
        keys.append((prop, direction.upper() != "DESC"))
    return tuple(keys) or DEFAULT_SORT


def _date_ranges(params: Mapping[str, str]) -> list[DateRange]:
    ranges: list[DateRange] = []
    for name, attribute in DATE_FILTERS.items():
        days: list[date | None] = []
        for suffix in ("From", "To"):
            raw = params.get(name + suffix)
            days.append(None if raw is None else parse_day(raw, name + suffix))
        start, end = day_range(days[0], days[1])
        if start or end:
            ranges.append((attribute, start, end))
    return ranges


@dataclass(frozen=True)
class VoucherQuery:
    types: frozenset[str] | None
    statuses: frozenset[str] | None
    archived: bool | None
    contact_id: str | None
    voucher_number: str | None
    ranges: list[DateRange]
    sort: tuple[tuple[str, bool], ...]

    @classmethod
    def parse(cls, request: web.Request) -> VoucherQuery:
        params = single_params(request.query, repeatable=frozenset({"sort"}))
        statuses = _choices(params, "voucherStatus", VOUCHER_STATUSES)
        if statuses is not None and "overdue" in statuses and len(statuses) > 1:
            raise BadQuery(
                "voucherStatus overdue cannot be combined with other statuses", "voucherStatus"
            )
        contact_id = params.get("contactId")
        if contact_id is not None:
            try:
                contact_id = str(uuid.UUID(contact_id))
            except ValueError:
                raise BadQuery("contactId must be a UUID", "contactId") from None
        return cls(
            types=_choices(params, "voucherType", VOUCHER_TYPES),
            statuses=statuses,
            archived=parse_bool(params, "archived"),
            contact_id=contact_id,
            voucher_number=params.get("voucherNumber"),
            ranges=_date_ranges(params),
            sort=_sort(request.query.getall("sort", [])),
        )

    def _status_matches(self, voucher: StoredVoucher, at: datetime) -> bool:
        """`overdue` is computed from the due date; stored-overdue vouchers also come back for
        `open` ("Retrieve and Filter Voucherlist": overdue "can also be returned when filtered for
        vouchers with status open")."""
        if self.statuses is None or voucher.status in self.statuses:
            return True
        if "overdue" in self.statuses:
            return voucher.is_overdue(at)
        return "open" in self.statuses and voucher.status == "overdue"

    def _in_ranges(self, voucher: StoredVoucher) -> bool:
        for attribute, start, end in self.ranges:
            value = attribute(voucher)
            if (start and value < start) or (end and value >= end):
                return False
        return True

    def matches(self, voucher: StoredVoucher, at: datetime) -> bool:
        return (
            (self.types is None or voucher.voucher_type in self.types)
            and self._status_matches(voucher, at)
            and (self.archived is None or voucher.archived == self.archived)
            and (self.contact_id is None or voucher.contact_id == self.contact_id)
            and (self.voucher_number is None or voucher.number == self.voucher_number)
            and self._in_ranges(voucher)
        )

    def ordered(self, vouchers: list[StoredVoucher]) -> list[StoredVoucher]:
        """Stable sorts from the last key to the first; the id makes the order total."""
        result = sorted(vouchers, key=lambda v: v.id)
        for prop, ascending in reversed(self.sort):
            result.sort(key=SORT_KEYS[prop], reverse=not ascending)
        return result


async def list_vouchers(request: web.Request) -> web.Response:
    try:
        query = VoucherQuery.parse(request)
        page, size = parse_paging(single_params(request.query, repeatable=frozenset({"sort"})))
    except BadQuery as error:
        return regular_bad_query(request, error)
    at = now()
    vouchers = [v for v in org_of(request).vouchers.values() if query.matches(v, at)]
    items = [v.item() for v in query.ordered(vouchers)]
    sort = [sort_descriptor(prop, ascending) for prop, ascending in query.sort]
    return web.json_response(page_envelope(items, page, size, sort))


# --- detail endpoints -----------------------------------------------------------------------------


def _amounts(voucher: StoredVoucher) -> tuple[float, float]:
    net = round(voucher.total / (1 + TAX_RATE / 100), 2)
    return net, round(voucher.total - net, 2)


def _sales_detail(voucher: StoredVoucher) -> Json:
    """The fields of an invoice (quotation, credit note, ...) a CRM shows ("Retrieve an
    Invoice")."""
    net, tax = _amounts(voucher)
    address: Json = {"name": voucher.contact_name, "countryCode": "DE"}
    if voucher.contact_id is not None:  # only when the voucher references a saved contact
        address = {"contactId": voucher.contact_id, **address}
    unit_price = {"currency": "EUR", "netAmount": net, "taxRatePercentage": TAX_RATE}
    line = {"type": "custom", "name": "Leistung", "quantity": 1, "unitName": "Stück"}
    detail: Json = {
        "language": "de",
        "address": address,
        "lineItems": [{**line, "unitPrice": unit_price, "lineItemAmount": net}],
        "totalPrice": {
            "currency": "EUR",
            "totalNetAmount": net,
            "totalGrossAmount": voucher.total,
            "totalTaxAmount": tax,
        },
        "taxAmounts": [{"taxRatePercentage": TAX_RATE, "taxAmount": tax, "netAmount": net}],
        "taxConditions": {"taxType": "net"},
        "title": TITLES.get(voucher.voucher_type, "Beleg"),
        "relatedVouchers": [],
    }
    if voucher.status != "draft":  # the PDF exists only once the voucher is final
        detail["files"] = {"documentFileId": str(uuid.uuid5(uuid.NAMESPACE_URL, voucher.id))}
    return detail


def _bookkeeping_detail(voucher: StoredVoucher) -> Json:
    """`/v1/vouchers/{id}` for salesinvoice & co."""
    tax = _amounts(voucher)[1]
    return {
        "type": voucher.voucher_type,
        "totalGrossAmount": voucher.total,
        "totalTaxAmount": tax,
        "taxType": "gross",
        "useCollectiveContact": voucher.contact_id is None,
        "contactId": voucher.contact_id,
        "voucherItems": [
            {"amount": voucher.total, "taxAmount": tax, "taxRatePercent": TAX_RATE},
        ],
        "files": [],
    }


def voucher_detail(voucher: StoredVoucher, organization_id: uuid.UUID) -> Json:
    bookkeeping = voucher.voucher_type in BOOKKEEPING_TYPES
    specific = _bookkeeping_detail(voucher) if bookkeeping else _sales_detail(voucher)
    return {
        "id": voucher.id,
        "organizationId": str(organization_id),
        "createdDate": format_datetime(voucher.created),
        "updatedDate": format_datetime(voucher.updated),
        "version": 1,
        "archived": voucher.archived,
        "voucherStatus": voucher.status,
        "voucherNumber": voucher.number,
        "voucherDate": format_datetime(voucher.voucher_date),
        "dueDate": format_optional(voucher.due),
        **specific,
        **voucher.extra,  # seeded detail fields win
    }


def detail_handler(collection: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """GET `/v1/<collection>/{id}`: only vouchers whose type belongs to that collection."""

    async def handler(request: web.Request) -> web.Response:
        org = org_of(request)
        voucher = org.vouchers.get(request.match_info["id"])
        if voucher is None or DETAIL_COLLECTIONS[voucher.voucher_type] != collection:
            return regular_error(request, 404, "Resource not found")
        return web.json_response(voucher_detail(voucher, org.id))

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/voucherlist", list_vouchers, allow_head=False)
    for collection in sorted(set(DETAIL_COLLECTIONS.values())):
        app.router.add_get(f"/v1/{collection}/{{id}}", detail_handler(collection), allow_head=False)
