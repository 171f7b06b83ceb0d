"""Library internals the code relies on, in one place: each function reaches into one private
attribute of a dependency, says why no public way serves, and has a test
(tests/test_library_internals.py) that fails by name when an upgrade removes it."""

from __future__ import annotations

from typing import Any

# SQLAlchemy's asyncpg adapter (AsyncAdapt_asyncpg_connection, dialects/postgresql/asyncpg.py)
# begins a transaction lazily, before the first statement, as a round trip of its own. The
# unit of work begins it together with the tenant setting (app.data.unit_of_work): it needs the
# adapter's state and the slot where the adapter keeps its transaction.


def adapter_is_plain(adapter: Any) -> bool:
    """The adapter holds no transaction yet, with default isolation, not read-only or
    deferrable: the state in which BEGIN may be sent for it."""
    return (
        getattr(adapter, "isolation_level", "unknown") is None
        and getattr(adapter, "_transaction", "unknown") is None
        and not adapter.readonly
        and not adapter.deferrable
    )


def set_adapter_transaction(adapter: Any, transaction: Any) -> None:
    """What the adapter commits or rolls back: the transaction begun outside it."""
    adapter._transaction = transaction
