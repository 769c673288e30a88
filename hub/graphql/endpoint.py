"""The /graphql endpoint: bearer-token check, then strawberry with a typed Context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from hub.auth.tokens import TokenRejected
from hub.graphql.context import Context
from hub.runtime import Runtime


class _View(GraphQL):  # type: ignore[type-arg]
    async def get_context(self, request: Any, response: Any) -> Any:
        raise RuntimeError("the context is built by GraphQLEndpoint")


def _wants_ide(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


class GraphQLEndpoint:
    """ASGI app for /graphql: GraphiQL for browsers, authenticated GraphQL for clients."""

    def __init__(self, *, schema: Schema, graphiql: bool):
        self.view = _View(schema, graphql_ide="graphiql" if graphiql else None)
        self.graphiql = graphiql

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Serves GraphiQL, refuses unauthenticated calls with 401, or runs the operation."""
        if self.graphiql and _wants_ide(request) and "query" not in request.query_params:
            return await self.view.render_graphql_ide(request)
        runtime: Runtime = request.app.state.runtime
        try:
            principal = await runtime.verifier.verify_header(request.headers.get("authorization"))
        except TokenRejected as rejected:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": rejected.description,
                            "extensions": {"code": "UNAUTHENTICATED", "oauth": rejected.error},
                        }
                    ]
                },
                status_code=401,
                headers={"WWW-Authenticate": rejected.www_authenticate()},
            )
        context = Context(request=request, principal=principal, runtime=runtime)
        try:
            return await self.view.run(request, context=context)
        finally:
            await context.close()
