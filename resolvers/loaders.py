"""Per-request DataLoaders: every relation resolves through one of these, so a list query costs
one SQL statement per relation level whatever the page size. Each batch uses its own short
session (sibling fields resolve concurrently). Domain modules name them (`IndustryByIdLoader`
is `loaders.by_id(INDUSTRY)`)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from app.data import batch_reads
from app.data.child_pages import ChildPage, ChildPages, child_pages
from app.data.records import Entity
from app.data.tenancy import TenantScope

RowT = TypeVar("RowT")
KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")


class Loaders:
    def __init__(self, scope: TenantScope) -> None:
        self._scope = scope
        # One loader per name, of whatever rows that name loads: typed again where it is
        # made and handed out (by_id, by_parent, custom), never read from here as it is.
        self._made: dict[Hashable, DataLoader[Any, Any]] = {}

    def by_id(self, entity: Entity[RowT]) -> DataLoader[uuid.UUID, RowT | None]:
        key = ("by_id", entity.label)
        if key not in self._made:

            async def load(ids: list[uuid.UUID]) -> Sequence[RowT | None]:
                return await batch_reads.rows_by_ids(self._scope, entity, ids)

            self._made[key] = DataLoader(load_fn=load)
        loader: DataLoader[uuid.UUID, RowT | None] = self._made[key]
        return loader

    def custom(
        self, name: str, load: Callable[[list[KeyT]], Awaitable[Sequence[ValueT]]]
    ) -> DataLoader[KeyT, ValueT]:
        """A loader with its own batch function (aggregates and other non-row reads)."""
        key = ("custom", name)
        if key not in self._made:
            self._made[key] = DataLoader(load_fn=load)
        loader: DataLoader[KeyT, ValueT] = self._made[key]
        return loader

    def by_parent(
        self,
        entity: Entity[RowT],
        parent_column: str,
        order_by: Iterable[Any],
        limit: int | None = None,
        order: Hashable = None,
    ) -> DataLoader[uuid.UUID, list[RowT]]:
        ordering = list(order_by)
        # One ordering per (entity, parent column, `order`: the name of an order a nested list
        # was asked in, None for its own): the key must be cheap, it is computed for every
        # parent row (str() of an expression would compile SQL each time).
        key = ("by_parent", entity.label, parent_column, limit, order)
        if key not in self._made:

            async def load(parent_ids: list[uuid.UUID]) -> Sequence[list[RowT]]:
                return await batch_reads.rows_by_parent(
                    self._scope, entity, parent_column, parent_ids, order_by=ordering, limit=limit
                )

            self._made[key] = DataLoader(load_fn=load)
        loader: DataLoader[uuid.UUID, list[RowT]] = self._made[key]
        return loader

    def child_pages(
        self, pages: ChildPages[RowT], counted: bool
    ) -> DataLoader[uuid.UUID, ChildPage[RowT]]:
        """A nested connection's pages (app/data/child_pages.py): one loader per page asked
        (size, cursor, order) and whether its totalCount is selected."""
        key = ("child_pages", pages, counted)
        if key not in self._made:

            async def load(parent_ids: list[uuid.UUID]) -> Sequence[ChildPage[RowT]]:
                return await child_pages(self._scope, pages, parent_ids, counted)

            self._made[key] = DataLoader(load_fn=load)
        loader: DataLoader[uuid.UUID, ChildPage[RowT]] = self._made[key]
        return loader
