"""Roll-ups of companies and contacts: figures over a record's own activities and deals, as
SQL expressions correlated to the record's row.

Which activities and deals are a record's is what its `activities` and `deals` fields list:
those whose `company_id` (a company's) or `contact_id` (a contact's) is the record (a
company's figures do not include its contacts' activities, as its `activities` field does
not). Deleted activities and deals are gone from the table, so they never count.

- `last_activity_at`: the latest `completed_at` of the record's completed activities (an
  activity happens when it is completed; one never completed, a note included, does not
  count); null when none is completed.
- `next_activity_due_at`: the earliest `due_at` of the record's open (not completed)
  activities that have one, overdue ones included; null when there is none.
- `open_deal_count`: the record's deals with status OPEN.
- `open_deal_value`: the values of those deals summed per currency, by currency code; at most
  `MAX_CURRENCIES` entries (the currencies a deal may be in), the bound the query cost uses.

Each figure is a correlated scalar subquery, so one statement reads the figures of a whole
level (the loaders' batch, or the compiled path's page and relation statements, where the
figures are columns of the statement that reads the records) and a page sorts by one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col

from app.data.sort_keys import SortKey, timestamp_key
from app.data.tenancy import TenantScope
from app.errors import BadUserInput
from app.services.deals.currencies import CURRENCIES
from app.services.rollups.rows import MoneyAmount, RollupRow
from models import Activity, Company, Contact, Deal, DealStatus

MAX_CURRENCIES = len(CURRENCIES)
DEFAULT_CURRENCY = "EUR"
# What a missing figure sorts as: a record without a completed activity is the least
# recently active (last in a DESC sort, first in an ASC one), one without a due activity the
# least urgent (last in an ASC sort). The cursor carries the same value, so paging through
# the records without one is stable in both directions. (`completed_at` is the server's clock
# when an activity is completed, never a client's value, so nothing real is that early; year 1
# would be datetime.min, which asyncpg sends as -infinity.)
FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
SUM_LIMIT = Decimal("1e20")  # a sum of NUMERIC(14, 2) values, as a cursor may carry it


@dataclass(frozen=True)
class RollupOwner:
    """Companies or contacts, and the column by which activities and deals point at them."""

    model: Any
    link: str  # "company_id" / "contact_id" on activity and deal


COMPANY_ROLLUPS = RollupOwner(Company, "company_id")
CONTACT_ROLLUPS = RollupOwner(Contact, "contact_id")


def _last_activity_at(owner: RollupOwner, target: Any) -> Any:
    mine = col(getattr(Activity, owner.link)) == target.id
    done = col(Activity.completed_at).is_not(None)  # the partial index's condition
    return sa.select(sa.func.max(col(Activity.completed_at))).where(mine, done)


def _next_activity_due_at(owner: RollupOwner, target: Any) -> Any:
    mine = col(getattr(Activity, owner.link)) == target.id
    open_ = col(Activity.completed_at).is_(None)
    due = col(Activity.due_at).is_not(None)  # the partial index's condition
    return sa.select(sa.func.min(col(Activity.due_at))).where(mine, open_, due)


# Constants written into the SQL: a statement of the compiled path binds only its named
# parameters (tenant, parents, limit), whatever figures it reads.
_OPEN: sa.ColumnElement[Any] = sa.literal_column(f"'{DealStatus.OPEN.value}'")
_AT_MOST_CURRENCIES: sa.ColumnElement[Any] = sa.literal_column(str(MAX_CURRENCIES))


def _open_deals(owner: RollupOwner, target: Any) -> list[Any]:
    return [col(getattr(Deal, owner.link)) == target.id, col(Deal.status) == _OPEN]


def _open_deal_count(owner: RollupOwner, target: Any) -> Any:
    return sa.select(sa.func.count()).select_from(Deal).where(*_open_deals(owner, target))


def _open_deal_value(owner: RollupOwner, target: Any) -> Any:
    """[[currency, amount as text], ...] by currency (text: a JSON number would be a float)."""
    per_currency = (
        sa.select(col(Deal.currency), sa.func.sum(col(Deal.value)).label("amount"))
        .where(*_open_deals(owner, target))
        .group_by(col(Deal.currency))
        .order_by(col(Deal.currency))
        .limit(_AT_MOST_CURRENCIES)
        .correlate(target)  # the record of the statement two levels out
        .subquery()
    )
    pair = sa.func.json_build_array(
        per_currency.c.currency, sa.cast(per_currency.c.amount, sa.Text)
    )
    return sa.select(sa.func.json_agg(aggregate_order_by(pair, per_currency.c.currency)))


def money_amounts(value: Any) -> list[MoneyAmount]:
    """The open deal value column as `MoneyAmount`s (None: no open deal)."""
    pairs = value[:MAX_CURRENCIES] if value else ()
    return [MoneyAmount(Decimal(amount), currency) for currency, amount in pairs]


def _unchanged(value: Any) -> Any:
    return value


_FIGURES: dict[str, tuple[Callable[[RollupOwner, Any], Any], Callable[[Any], Any]]] = {
    "last_activity_at": (_last_activity_at, _unchanged),
    "next_activity_due_at": (_next_activity_due_at, _unchanged),
    "open_deal_count": (_open_deal_count, _unchanged),  # count(*): never null
    "open_deal_value": (_open_deal_value, money_amounts),
}
FIGURES = tuple(_FIGURES)


@dataclass(frozen=True)
class Rollup:
    """One figure of companies or contacts: its SQL for the record `target` (the model, or an
    alias of it in a statement), and what its value becomes in Python (`RollupRow`'s field)."""

    owner: RollupOwner
    figure: str  # a field of RollupRow

    def expression(self, target: Any) -> Any:
        build, _ = _FIGURES[self.figure]
        return build(self.owner, target).scalar_subquery()

    @property
    def as_read(self) -> bool:
        """Whether the column's value is the figure as it is (else: `convert` it)."""
        return _FIGURES[self.figure][1] is _unchanged

    def convert(self, value: Any) -> Any:
        _, convert = _FIGURES[self.figure]
        return convert(value)

    @property
    def label(self) -> str:
        return f"rollup_{self.figure}"


async def rollups_by_ids(
    scope: TenantScope, owner: RollupOwner, ids: Sequence[uuid.UUID]
) -> list[RollupRow]:
    """Every figure of the records `ids`, in their order, in one statement (a loader's
    batch); a record not found (another tenant's) has no activities or deals."""
    figures = [Rollup(owner, figure) for figure in FIGURES]
    target = owner.model
    statement = sa.select(
        col(target.id), *(rollup.expression(target).label(rollup.figure) for rollup in figures)
    ).where(col(target.id).in_(set(ids)))
    async with scope.reading() as reads:
        rows = await reads.execute_rows(statement)
        found = {
            row.id: RollupRow(
                row.id, **{r.figure: r.convert(getattr(row, r.figure)) for r in figures}
            )
            for row in rows
        }
    return [found.get(record_id) or RollupRow(record_id) for record_id in ids]


# --- sorting ------------------------------------------------------------------------------


def _int(value: Any) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise ValueError("not a count")
    return value


def _sum(value: Any) -> Decimal:
    number = Decimal(str(value)) if isinstance(value, str) else None
    if number is None or not number.is_finite() or abs(number) >= SUM_LIMIT:
        raise ValueError("not an amount")
    return number


def _instant(moment: datetime) -> Any:
    """A timestamptz literal (bound untyped, PostgreSQL would make the COALESCE a timestamp
    without time zone, and its cursor values naive)."""
    return sa.literal(moment, sa.DateTime(timezone=True))


def last_activity_key(owner: RollupOwner) -> SortKey:
    at = Rollup(owner, "last_activity_at").expression(owner.model)
    return timestamp_key("lastActivityAt", sa.func.coalesce(at, _instant(FAR_PAST)))


def next_activity_due_key(owner: RollupOwner) -> SortKey:
    at = Rollup(owner, "next_activity_due_at").expression(owner.model)
    return timestamp_key("nextActivityDueAt", sa.func.coalesce(at, _instant(FAR_FUTURE)))


def open_deal_count_key(owner: RollupOwner) -> SortKey:
    return SortKey("openDealCount", Rollup(owner, "open_deal_count").expression(owner.model), _int)


def check_currency(currency: str | None) -> str:
    """The currency a sort by open deal value compares (EUR unless the order names one)."""
    if currency is None:
        return DEFAULT_CURRENCY
    if currency not in CURRENCIES:
        raise BadUserInput.single("orderBy.currency", "must be an ISO 4217 currency code")
    return currency


def sort_key_of(
    keys: Mapping[Any, SortKey], order: Any, owner: RollupOwner, currency: str | None
) -> SortKey:
    """A company's or contact's sort key: one of `keys`, else (OPEN_DEAL_VALUE, the one order
    with a parameter) the open deal value in the order's currency (checked when sent)."""
    checked = check_currency(currency)
    return keys.get(order) or open_deal_value_key(owner, checked)


@cache
def open_deal_value_key(owner: RollupOwner, currency: str) -> SortKey:
    """The open deals' value in `currency` (0 without one); one key per currency, so a page
    statement's shape (and its compiled SQL) is shared by the requests of that currency, and
    a cursor of one currency is refused by an order of another."""
    total = (
        sa.select(sa.func.coalesce(sa.func.sum(col(Deal.value)), 0))
        .where(*_open_deals(owner, owner.model), col(Deal.currency) == currency)
        .scalar_subquery()
    )
    return SortKey(f"openDealValue:{currency}", total, _sum)
