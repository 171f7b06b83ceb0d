"""What every resolver gets: the caller, their tenant scope, and the process's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info

from app.auth import Authenticator, Principal
from app.settings import Settings
from app.tenancy import TenantScope
from resolvers.loaders import Loaders


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal
    scope: TenantScope
    settings: Settings
    authenticator: Authenticator
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.scope)


def context_of(info: Info[Any, Any]) -> Context:
    context: Context = info.context
    return context
