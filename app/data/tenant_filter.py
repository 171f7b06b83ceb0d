"""What a statement of tenant rows may be, and the filter that scopes it to one tenant.

`app.data.unit_of_work` adds the filter to every statement a `Reading` or `UnitOfWork` runs
(`execute` and `execute_rows`) and applies the refusals; the session's guard in
`app.data.tenancy` refuses what did not come that way. The compiled execution path adds
`READ_FILTERS` (the tenant's filter and the trash's) to the statements it compiles. ORM
entities and attributes carry a `parententity` annotation and get the filters; Core tables
and columns of tenant tables (`Company.__table__`) would not, so they are refused.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapper, with_loader_criteria
from sqlalchemy.orm.context import FromStatement
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import find_tables
from sqlmodel import col

from app.internals import from_orm_entity, is_orm_statement, select_sources, statement_shape
from models import Company, CompanyRelationship, Contract, TenantScoped, Trashable


class TenantScopeError(RuntimeError):
    """A tenant-owned table was queried by a session that carries no tenant, or around the
    tenant filter (Core statements on tenant tables)."""


def _subclasses(cls: type) -> Iterator[type]:
    subclass: type
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _tenant_tables() -> frozenset[str]:
    """The tables of the mapped subclasses of TenantScoped."""
    tables: set[str] = set()
    for cls in _subclasses(TenantScoped):
        mapper: Mapper[Any] | None = sa.inspect(cls, raiseerr=False)
        if mapper is not None:  # a mixin (TenantOwned) is not mapped
            tables.add(mapper.local_table.name)  # type: ignore[attr-defined]
    return frozenset(tables)


TENANT_TABLES = _tenant_tables()


class ShapeVerdicts:
    """What a check concluded about a statement shape (SQLAlchemy's cache key, without bound
    values). The checks visit every element of a statement: a tenth of a small mutation's
    CPU on every execution. Their verdict depends on the elements alone, and a cache key
    tells an ORM column from a Core one (its annotations are part of the key; a test pins
    this), so a shape checked once needs no second look. Bounded like SQLAlchemy's own
    compiled cache: the oldest goes first."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._verdicts: dict[Any, Any] = {}

    def __len__(self) -> int:
        return len(self._verdicts)

    def get(self, shape: Any) -> Any:
        return None if shape is None else self._verdicts.get(shape)

    def remember(self, shape: Any, verdict: Any) -> None:
        if shape is None:
            return
        if len(self._verdicts) >= self.limit:
            self._verdicts.pop(next(iter(self._verdicts)))
        self._verdicts[shape] = verdict


SCOPED_SHAPES = ShapeVerdicts()  # passed the session guard's checks
ROW_SHAPES = ShapeVerdicts()  # passed execute_rows' checks
INSERT_READS = ShapeVerdicts()  # whether an INSERT reads rows


shape_of = statement_shape  # per statement: SQLAlchemy's cache key without the values


def _refuse_plain_tables(sources: Iterable[Any]) -> None:
    for source in sources:
        if source is None or _entity_alias_of_orm_statement(source):
            continue
        for table in find_tables(source, include_joins=True, include_aliases=True):
            plain = not from_orm_entity(table)
            if plain and getattr(table, "name", None) in TENANT_TABLES:
                raise TenantScopeError("tenant-owned tables are queried through their models only")


def _entity_alias_of_orm_statement(source: Any) -> bool:
    """A model aliased over an ORM statement (a page read through its model, as
    app/data/child_pages does): the inner statement gets the filters itself, and Core columns
    inside it are walk_for_core_access's to refuse. A model aliased over a Core select of a
    tenant table is not one: the filters could not reach that select's rows."""
    inner = getattr(source, "element", None)  # the aliased subquery's or lateral's select
    return from_orm_entity(source) and inner is not None and is_orm_statement(inner)


def walk_for_core_access(statement: sa.ClauseElement, *, has_mappers: bool) -> None:
    """Core columns anywhere; without an entity among the results, Core tables in FROM."""
    if not has_mappers:
        if isinstance(statement, sa.Select):
            _refuse_plain_tables(statement.get_final_froms())
        else:  # INSERT, UPDATE, DELETE name their table
            _refuse_plain_tables([getattr(statement, "table", None)])
    for element in visitors.iterate(statement):
        if (
            isinstance(element, sa.Column)
            and not from_orm_entity(element)  # other annotations: still Core
            and getattr(element.table, "name", None) in TENANT_TABLES
        ):
            raise TenantScopeError("tenant-owned tables are queried through their models only")


def refuse_core_sources(statement: Any) -> None:
    """What the statement names as its sources (the UPDATE's or DELETE's table, a select's
    select_from and join targets) must be models: a Core table there is read or written
    without the filter, even when the statement's columns are the model's."""
    named = select_sources(statement) if isinstance(statement, sa.Select) else [statement.table]
    _refuse_plain_tables(named)


def refuse_unscoped_rows(statement: Any) -> None:
    """For `execute_rows` (app.data.unit_of_work): only ORM statements get the tenant filter
    when compiled, and only rows come back from a connection (an entity would come back as its
    columns)."""
    shape = shape_of(statement)
    if ROW_SHAPES.get(shape):
        return
    if not is_orm_statement(statement):
        raise TenantScopeError("tenant-owned tables are queried through their models only")
    if isinstance(statement, FromStatement):  # its rows come from text no filter reaches
        raise TenantScopeError("tenant-owned models are not loaded through from_statement()")
    if isinstance(statement, sa.Select) and any(
        _is_entity(description["expr"]) for description in statement.column_descriptions
    ):
        raise TenantScopeError("execute_rows returns rows: select columns, not entities")
    refuse_core_sources(statement)
    walk_for_core_access(statement, has_mappers=True)
    ROW_SHAPES.remember(shape, True)


def _is_entity(expression: Any) -> bool:
    inspected = sa.inspect(expression, raiseerr=False)
    return bool(
        getattr(inspected, "is_mapper", False) or getattr(inspected, "is_aliased_class", False)
    )


def insert_reads(statement: Any) -> bool:
    """Whether an INSERT reads rows (INSERT ... SELECT, a subquery among its values): then
    the filter must reach what it reads. Its own values carry the tenant
    (`TenantScope.owned`)."""
    shape = shape_of(statement)
    reads = INSERT_READS.get(shape)
    if reads is None:
        reads = any(isinstance(e, sa.Select) for e in visitors.iterate(statement))
        INSERT_READS.remember(shape, reads)
    return bool(reads)


def _tenant_filter(tenant: sa.BindParameter[Any]) -> Any:
    """The tenant filter on every tenant-owned table of a statement, aliases and subqueries
    included, comparing with a bind parameter: one option, built once, serves every tenant,
    and a statement's shape (its cache key, its compiled SQL) is the same for all of them.
    It travels with the objects it loads to their later loads (SQLAlchemy applies it to
    relationship loads, which no model has yet); the session's guard refuses those loads."""
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.tenant_id == tenant, include_aliases=True
    )


# Every session statement, and every statement of the compiled execution path, gets this one
# filter; the tenant's id is the value of TENANT_PARAMETER in each execution.
TENANT_PARAMETER = "crm_tenant_id"
TENANT_FILTER = _tenant_filter(sa.bindparam(TENANT_PARAMETER, type_=sa.Uuid()))

# The trash (models.base.Trashable): every Trashable row with `deleted_at` set is hidden from
# every statement that gets the filters, aliases, subqueries and joined rows included (a
# LEFT JOIN to a trashed row finds none: a link to a trashed record reads as null). Like the
# tenant's, it reaches UPDATE and DELETE too: a trashed record is not written by accident.
# Row-level security does not repeat it (restore and purge write trashed rows as
# `crm_tenant`); it is the app's rule, applied here once.
NOT_TRASHED = with_loader_criteria(
    Trashable, lambda cls: cls.deleted_at.is_(None), include_aliases=True
)
# Rows that are part of a company and go with it (ON DELETE CASCADE), not records of their own
# in the trash: a contract (its company is required) and a relationship (both ends are) are
# hidden while their company is trashed, and back with it.
CONTRACT_OF_LIVE_COMPANY = with_loader_criteria(
    Contract,
    lambda cls: sa.exists().where(
        Company.id == cls.company_id,
        Company.tenant_id == cls.tenant_id,
        col(Company.deleted_at).is_(None),
    ),
    include_aliases=True,
)
RELATIONSHIP_OF_LIVE_COMPANIES = with_loader_criteria(
    CompanyRelationship,
    lambda cls: sa.and_(
        sa.exists().where(
            Company.id == cls.from_company_id,
            Company.tenant_id == cls.tenant_id,
            col(Company.deleted_at).is_(None),
        ),
        sa.exists().where(
            Company.id == cls.to_company_id,
            Company.tenant_id == cls.tenant_id,
            col(Company.deleted_at).is_(None),
        ),
    ),
    include_aliases=True,
)
# What every statement gets: its tenant, and the trash hidden (READ_FILTERS), or its tenant
# alone for the few statements that must see trashed rows too (`with_trashed=True`: the
# trash list, restore, purge and what purge reaches).
READ_FILTERS = (
    TENANT_FILTER,
    NOT_TRASHED,
    CONTRACT_OF_LIVE_COMPANY,
    RELATIONSHIP_OF_LIVE_COMPANIES,
)
WITH_TRASHED_FILTERS = (TENANT_FILTER,)


# The filtered twin of each statement, while the statement lives: a statement built once
# (`functools.cache`) is then filtered, and its cache key computed, once (one twin per
# statement and `with_trashed`).
_FILTERED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_FILTERED_WITH_TRASHED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def filtered(statement: Any, *, with_trashed: bool = False) -> Any:
    twins = _FILTERED_WITH_TRASHED if with_trashed else _FILTERED
    twin = twins.get(statement)
    if twin is None:
        filters = WITH_TRASHED_FILTERS if with_trashed else READ_FILTERS
        twin = twins[statement] = statement.options(*filters)
    return twin


def with_tenant(parameters: Any, tenant_id: Any) -> dict[str, Any]:
    return {**(parameters or {}), TENANT_PARAMETER: tenant_id}
