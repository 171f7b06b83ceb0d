"""What every resolver gets: the caller, their tenant scope, and the process's services.

An HTTP request is signed in before its context exists; a WebSocket connection gets its context
at the handshake and is signed in by `connection_init` (no operation runs before that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from app.auth import Authenticator, Principal
from app.data.tenancy import TenantScope
from app.errors import Unauthenticated
from app.events.hub import EventHub
from app.lexware.connector import LexwareConnector
from app.settings import Settings
from resolvers.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    authenticator: Authenticator
    hub: EventHub
    lexware: LexwareConnector
    request_id: str
    connection_params: dict[str, Any] | None = None  # set by strawberry from connection_init
    _principal: Principal | None = None
    _scope: TenantScope | None = None
    _loaders: Loaders | None = None
    _watchers: list[asyncio.Task[None]] = field(default_factory=list)

    def sign_in(self, principal: Principal, scope: TenantScope) -> None:
        self._principal, self._scope = principal, scope
        self._loaders = Loaders(scope)

    @property
    def signed_in(self) -> bool:
        return self._principal is not None

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise Unauthenticated("Send a token first (connection_init).")
        return self._principal

    @property
    def scope(self) -> TenantScope:
        if self._scope is None:
            raise Unauthenticated("Send a token first (connection_init).")
        return self._scope

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            raise Unauthenticated("Send a token first (connection_init).")
        return self._loaders

    def refresh_loaders(self) -> None:
        """A subscription's next result must not see what the last one cached."""
        self._loaders = Loaders(self.scope)

    def watch(self, task: asyncio.Task[None]) -> None:
        """A task that lives as long as the connection (e.g. the token watcher)."""
        self._watchers.append(task)

    def close(self) -> None:
        for task in self._watchers:
            task.cancel()


class FreshLoaders(SchemaExtension):
    """Each operation starts with empty loaders: several operations can share one WebSocket
    connection's context, and none may answer from what another one cached."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.signed_in:
            context.refresh_loaders()
        yield
