"""The ASGI application, wired explicitly: routes, middleware and lifespan as lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from hub import health
from hub.auth import routes as auth_routes
from hub.config import Settings
from hub.graphql.endpoint import GraphQLEndpoint
from hub.graphql.schema import build_schema
from hub.runtime import Runtime
from hub.standards import routes as standards_routes


def create_app(settings: Settings | None = None) -> Starlette:
    """Builds the hub's ASGI app; the database is touched only when the lifespan starts."""
    settings = settings or Settings.from_env()
    runtime = Runtime.create(settings)
    graphql = GraphQLEndpoint(schema=build_schema(settings), graphiql=not settings.is_production)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        *auth_routes.ROUTES,
        *standards_routes.ROUTES,
        *health.ROUTES,
    ]
    app = Starlette(routes=routes, middleware=[], lifespan=lifespan)
    app.state.runtime = runtime
    return app
