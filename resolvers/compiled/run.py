"""Running a plan: the root resolvers as usual, then one statement per relation level, rows
assembled straight into the response (no per-field resolvers, no DataLoader futures)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from operator import itemgetter
from typing import Any

from graphql import GraphQLSchema
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.permission import PermissionExtension
from strawberry.schema.schema_converter import get_arguments
from strawberry.utils.await_maybe import await_maybe

from app.data.child_pages import PARENTS
from app.data.pagination import SORT_LABEL
from app.data.tenancy import DriverReading
from app.data.tenant_filter import TENANT_PARAMETER
from app.internals import positional_values
from resolvers.common.children import nested_limit
from resolvers.common.inputs import parse_id
from resolvers.common.nested import nested_connection_of
from resolvers.common.pagination import (
    Connection,
    PageArguments,
    PlannedInfo,
    PlannedPage,
    connection_from_page,
)
from resolvers.common.relations import ORDER_ARGUMENT, ToMany, child_order
from resolvers.compiled.assemble import unchanged
from resolvers.compiled.nodes import Child, Link, PagedLink, PageRoot, Plan, Root, Selection
from resolvers.compiled.reading import page_statement, relation_statement
from resolvers.compiled.sql import DIALECT, NotCompilable, Statement
from resolvers.context import Context

Waiting = list[tuple[dict[str, Any], Any]]  # (output object, parent key) per parent


class _Run:
    def __init__(self, context: Context, variables: VariableValues) -> None:
        self.context = context
        self.variables = variables
        self.links: dict[Link | PagedLink, Waiting] = {}
        self.counts: list[tuple[dict[str, Any], str, Callable[[], Awaitable[int]]]] = []

    def build(self, value: Any, selection: Selection) -> dict[str, Any]:
        assert selection.build is not None
        return selection.build(value, self)

    def child(self, item: Child, value: Any) -> Any:
        if value is None:
            if not item.nullable:
                raise NotCompilable("null in a non-null field")
            return None
        if item.many:
            return [self.build(v, item.selection) for v in value]
        return self.build(value, item.selection)

    async def answer(
        self, plan: Plan, converter: Any, reading: DriverReading | None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for root in plan.roots:
            data[root.key] = await self.root(root, converter, reading)
        await self.fill_counts()
        if reading is not None:
            await self.fetch_levels(reading)
            await self.fill_counts()  # nested connections' (the level's statement read them)
        return data

    async def fill_counts(self) -> None:
        counts, self.counts = self.counts, []
        for out, key, count in counts:
            out[key] = await count()

    async def root(self, root: Root, converter: Any, reading: DriverReading | None) -> Any:
        if root.lookup is None or reading is None:
            value = await _root_value(root, self.context, self.variables, converter)
            if root.page is not None:
                assert reading is not None and isinstance(value, PlannedPage)
                value = await self.page(root.page, value, reading)
            return self.child(
                Child(root.key, unchanged, root.selection, root.many, root.nullable), value
            )
        await _check_permissions(root, PlannedInfo(self.context))
        row_id = parse_id(get_argument_values(root.definition, root.node, self.variables)["id"])
        parameters = _parameters(root.lookup, self.context.scope.tenant_id, [row_id], None)
        rows = await _fetch(reading, root.lookup.sql, parameters)
        if not rows:
            raise NotCompilable("the resolver reports a missing row")
        return self.build(rows[0], root.selection)

    async def page(
        self, root: PageRoot, planned: PlannedPage, reading: DriverReading
    ) -> Connection[Any]:
        """The page the resolver built, with the columns the nodes read, in the plan's
        transaction, as the Connection the executor would have had."""
        query = planned.query
        tenant = self.context.scope.tenant_id
        sql, parameters = root.statements.render_page(query, root.columns, tenant)
        rows = await _fetch(reading, sql, parameters)
        id_at = root.id_at

        def sort_value_and_id(row: Any) -> tuple[Any, Any]:
            return row[SORT_LABEL], row[id_at]

        page = query.page(rows, sort_value_and_id)
        return connection_from_page(page, planned.count_items)

    async def fetch_levels(self, reading: DriverReading) -> None:
        while self.links:
            level, self.links = self.links, {}
            for link, waiting in level.items():
                if isinstance(link, PagedLink):
                    await self.fetch_pages(reading, link, waiting)
                else:
                    await self.fetch(reading, link, waiting)

    async def fetch(self, reading: DriverReading, link: Link, waiting: Waiting) -> None:
        # Rows meet their parents by the 16 bytes of their uuid keys: asyncpg's UUID hashes
        # through a 128-bit int, four times the cost of hashing its bytes, once per row.
        parents = {key.bytes: key for _, key in waiting if key is not None}
        tenant = self.context.scope.tenant_id
        keys = list(parents.values())
        statement, limit = self._statement_and_limit(link)
        parameters = _parameters(statement, tenant, keys, limit)
        rows = await _fetch(reading, statement.sql, parameters)
        group_key = link.group_key
        if link.many:
            grouped: dict[bytes, list[Any]] = defaultdict(list)
            for row in rows:
                grouped[group_key(row).bytes].append(row)
            build = link.selection.build
            assert build is not None
            for out, key in waiting:
                out[link.key] = [build(row, self) for row in grouped.get(key.bytes, ())]
            return
        found = {group_key(row).bytes: row for row in rows}
        for out, key in waiting:
            match = found.get(key.bytes) if key is not None else None
            if match is None and not link.nullable:
                raise NotCompilable("a required row is missing")
            out[link.key] = None if match is None else self.build(match, link.selection)

    async def fetch_pages(self, reading: DriverReading, link: PagedLink, waiting: Waiting) -> None:
        """Each parent's page of a nested connection, in one statement for the level, built
        into the executor's Connection of it (a bad argument or cursor raises the executor's
        error here: the executor answers, with it)."""
        parents = {key.bytes: key for _, key in waiting}
        keys = list(parents.values())
        arguments = get_argument_values(link.definition, link.node, self.variables)
        asked = PageArguments(
            arguments.get("first"), arguments.get("after"), arguments.get("last"),
            arguments.get("before"),
        )  # fmt: skip
        order = child_order(arguments.get(ORDER_ARGUMENT))
        pages = link.spec.pages(self.context.settings, asked, order)
        bounds = pages.bounds()
        shape = pages.shape(bounds, link.counted)
        compiled = link.compiled.get(shape)
        if compiled is None:
            built = page_statement(pages, link.rows, bounds, link.counted)
            compiled = link.compiled[shape] = built.compile(dialect=DIALECT)
        tenant = self.context.scope.tenant_id
        values = {**bounds, TENANT_PARAMETER: tenant, PARENTS: keys}
        sql, parameters = positional_values(
            compiled, compiled.construct_params(params=values, escape_names=False)
        )
        rows = await _fetch(reading, sql, parameters)
        found = pages.pages(rows, keys, _by_label, itemgetter(link.id_at), link.counted)
        by_parent = {key.bytes: page for key, page in zip(keys, found, strict=True)}
        for out, key in waiting:
            connection = nested_connection_of(by_parent[key.bytes])
            out[link.key] = self.build(connection, link.selection)

    def _statement_and_limit(self, link: Link) -> tuple[Statement, int | None]:
        """The level's statement (in the order its `orderBy` asks) and per-parent limit."""
        spec = link.spec
        if not isinstance(spec, ToMany) or not (spec.limited or spec.ordering):
            return link.statement, None
        arguments = get_argument_values(link.definition, link.node, self.variables)
        limit = None
        if spec.limited:
            limit = nested_limit(arguments["first"], self.context.settings.max_page_size)
        order = child_order(arguments.get(ORDER_ARGUMENT)) if spec.ordering else None
        if order is None:
            return link.statement, limit
        statement = link.ordered.get(order)
        if statement is None:
            ordering = spec.ordered(order)
            statement = relation_statement(spec, link.selection.columns, ordering)
            link.ordered[order] = statement
        return statement, limit


def _by_label(row: Any, label: str) -> Any:
    return row[label]


async def _fetch(reading: DriverReading, sql: str, parameters: tuple[Any, ...]) -> Any:
    """asyncpg records straight from the driver, inside the plan's transaction (SQLAlchemy's
    result rows would cost more than the rest of the plan); statement listeners (counters,
    tracing) still see the statement."""
    sync = reading.connection.sync_connection
    assert sync is not None
    if sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, sql, parameters, None, False)
    return await reading.driver.fetch(sql, *parameters)


def _parameters(
    statement: Statement, tenant: Any, parents: list[Any], limit: Any
) -> tuple[Any, ...]:
    values = {TENANT_PARAMETER: tenant, "parents": parents, "limit": limit}
    constants = statement.constants
    return tuple(
        values[name] if name in values else constants[name] for name in statement.parameters
    )


async def _check_permissions(root: Root, info: PlannedInfo) -> None:
    for extension in root.strawberry_field.extensions:
        assert isinstance(extension, PermissionExtension)
        for permission in extension.permissions:
            if not await await_maybe(permission.has_permission(None, info)):  # type: ignore[arg-type]
                raise NotCompilable("permission denied: the executor reports it")


async def _root_value(
    root: Root, context: Context, variables: VariableValues, converter: Any
) -> Any:
    """The root resolver's own result, after its permission checks, with its arguments
    converted exactly as strawberry converts them."""
    info = PlannedInfo(context)
    field = root.strawberry_field
    await _check_permissions(root, info)
    raw = get_argument_values(root.definition, root.node, variables)
    args, kwargs = get_arguments(
        field=field, source=None, info=info, kwargs=raw,  # type: ignore[arg-type]
        config=converter.config, scalar_registry=converter.scalar_registry,
    )  # fmt: skip
    assert field.base_resolver is not None
    return await field.base_resolver(*args, **kwargs)


async def run_plan(
    plan: Plan,
    schema: GraphQLSchema,
    converter: Any,
    context: Context,
    inputs: dict[str, Any] | None,
) -> dict[str, Any]:
    """The operation's `data`, or NotCompilable when the normal executor must answer (an
    error to report, a value the plan cannot shape)."""
    definitions = plan.operation.variable_definitions or ()
    variables = get_variable_values(schema, definitions, inputs or {})
    if isinstance(variables, list):
        raise NotCompilable("variables do not coerce")
    run = _Run(context, variables)
    if not plan.reads_rows:
        return await run.answer(plan, converter, None)
    async with context.scope.driver_reading() as reading:
        return await run.answer(plan, converter, reading)
