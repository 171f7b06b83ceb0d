"""A TCP front for the test PostgreSQL that a test can take away: `cut()` closes every
connection through it and refuses new ones, which is what a client of a stopped (or
unreachable) server sees; `freeze()` keeps every connection open and accepts new ones but
passes nothing on until `thaw()`, which is what a client of a hung server (SIGSTOPped, or
behind a network that drops packets) sees: no answer, and no error either. `freeze_on(b"...")`
freezes the moment a client sends those bytes (a statement's text), before they reach the
server: what a process that stalls right before that statement leaves behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType

from sqlalchemy.engine import make_url


class PostgresProxy:
    def __init__(self, database_url: str) -> None:
        self._upstream = make_url(database_url)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pipes: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._freeze_pattern: bytes | None = None
        self.frozen_on = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        """The upstream's URL, through the proxy (127.0.0.1 over TCP)."""
        query = {k: v for k, v in self._upstream.query.items() if k != "host"}
        proxied = self._upstream.set(host="127.0.0.1", port=self.port, query=query)
        return proxied.render_as_string(hide_password=False)

    async def __aenter__(self) -> PostgresProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.cut()

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def freeze(self) -> None:
        """Stop passing bytes on, both ways, on open and new connections alike."""
        self._flowing.clear()

    def freeze_on(self, pattern: bytes) -> None:
        """Freeze as soon as a client sends `pattern` (it is held back too); `frozen_on` is
        set then. Within one read of a client's bytes: a statement's text, not split."""
        self._freeze_pattern = pattern

    def _watch(self, chunk: bytes) -> None:
        if self._freeze_pattern is not None and self._freeze_pattern in chunk:
            self._freeze_pattern = None
            self.freeze()
            self.frozen_on.set()

    def thaw(self) -> None:
        """Pass on again, starting with what was held back."""
        self._flowing.set()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self._upstream.query.get("host")
        port = self._upstream.port or 5432
        if isinstance(socket_dir, str) and socket_dir.startswith("/"):
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(self._upstream.host or "127.0.0.1", port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await self._open_upstream()
        self._writers += [writer, upstream_writer]
        pairs = ((reader, upstream_writer, self._watch), (upstream_reader, writer, None))
        for source, target, watch in pairs:
            pipe = asyncio.create_task(_copy(source, target, self._flowing, watch))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)


async def _copy(
    source: asyncio.StreamReader,
    target: asyncio.StreamWriter,
    flowing: asyncio.Event,
    watch: Callable[[bytes], None] | None = None,
) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while chunk := await source.read(65536):
            if watch is not None:
                watch(chunk)
            await flowing.wait()
            target.write(chunk)
            await target.drain()
    target.transport.abort()
