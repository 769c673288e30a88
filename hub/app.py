"""The ASGI application, wired explicitly: routes, middleware and lifespan as lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from hub import garbage, health
from hub.auth import routes as auth_routes
from hub.config import Settings
from hub.graphql.endpoint import GraphQLEndpoint
from hub.graphql.events import EventsWebSocket
from hub.graphql.schema import build_schema
from hub.http.body_limit import BodySizeLimitMiddleware
from hub.http.proxies import TrustedProxyMiddleware
from hub.http.unavailable import DatabaseUnavailableMiddleware
from hub.log import routes as log_routes
from hub.messages import routes as messages_routes
from hub.observability import routes as observability_routes
from hub.observability import tracing
from hub.observability.request_log import RequestLogMiddleware
from hub.runtime import Runtime
from hub.standards import routes as standards_routes
from hub.web import graphiql as graphiql_page
from hub.web.assets import GraphiQLAssets


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> Starlette:
    """Builds the hub's ASGI app; the database is touched only when the lifespan starts.

    Traces go to `tracer_provider`, or where the OTEL_* variables say (off by default)."""
    settings = settings or Settings.from_env()
    provider = tracer_provider or tracing.provider_from_env()
    runtime = Runtime.create(settings, tracer_provider=provider)
    schema = build_schema(settings)
    graphql = GraphQLEndpoint(schema=schema, settings=settings, runtime=runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        # Start-up objects (schema, mappers, standards) are never walked by the collector.
        thresholds = garbage.freeze_startup() if settings.gc_freeze else None
        try:
            yield
        finally:
            if thresholds is not None:
                garbage.thaw(thresholds)
            await runtime.stop()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        # Subscriptions over graphql-transport-ws (the event feed).
        WebSocketRoute("/graphql", EventsWebSocket(schema=schema, runtime=runtime)),
        *auth_routes.ROUTES,
        *standards_routes.ROUTES,
        *messages_routes.ROUTES,
        *health.ROUTES,
        *observability_routes.ROUTES,
        *log_routes.ROUTES,
        *graphiql_page.ROUTES,
    ]
    # Outermost first. The request log sees every response, the 503s and 413s included;
    # the database-outage guard wraps the routes and the body limit, so that any of them
    # answers 503 rather than 500 when the database is down.
    middleware = [
        # First of all: everything after it sees the client's scheme and address as the
        # trusted proxies (and only they) report them.
        Middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies),
        # Outside the request log, so that its line carries the request's trace id.
        Middleware(tracing.http_middleware, provider=provider),
        Middleware(RequestLogMiddleware),
        Middleware(DatabaseUnavailableMiddleware, timeout=settings.request_timeout),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.runtime = runtime
    # Where GraphiQL's npm packages are installed (tests point it at an empty directory).
    app.state.graphiql_assets = GraphiQLAssets()
    app.state.graphql = graphql  # its `compiled` path can be switched off (tests, benchmarks)
    return app
