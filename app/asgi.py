"""The ASGI application: routes, middleware and the lifespan that owns the runtime."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from app.graphql_http import CrmGraphQL
from app.health import health, livez
from app.runtime import Runtime
from app.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Starlette:
    """Build the app; database and Redis are reached lazily, so a down backend shows in /health."""
    runtime = Runtime.open(settings)
    graphql = CrmGraphQL(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = runtime
        runtime.start()
        try:
            yield
        finally:
            await runtime.close()

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                max_age=600,
            )
        )
    routes = [
        # Route + WebSocketRoute, not Mount: a Mount would redirect /graphql to /graphql/.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.runtime = runtime
    return app
