"""The /graphql endpoint: bearer-token check, then strawberry with a typed Context."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from strawberry.asgi import GraphQL
from strawberry.federation import Schema
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from hub.access import audit_log
from hub.auth.tokens import TokenRejected
from hub.db import unit_of_work
from hub.graphql.context import Context
from hub.runtime import Runtime

log = logging.getLogger("hub.graphql")

PURPOSE_HEADER = "Hub-Purpose"


class _View(GraphQL):  # type: ignore[type-arg]
    async def get_context(self, request: Any, response: Any) -> Any:
        raise RuntimeError("the context is built by GraphQLEndpoint")

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Runs one operation, then writes its access event if it returned graph data."""
        # Every operation over GET or POST passes through here: no HTTP stream transports
        # (SSE, multipart) and no batching are configured; enabling them needs a hook too.
        started = datetime.now(UTC)
        result: ExecutionResult = await super().execute_single(
            request=request,
            request_adapter=request_adapter,
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )
        # Refusals before execution (401, unparsable or invalid documents) never reach a
        # resolver, so nothing is touched and nothing is logged; field errors still are.
        if not context.audit.touched:
            return result
        try:
            await _record_access(context, request_data, started)
        except Exception:
            # Fail closed: the hub promises that every read is logged ("trackable where it
            # went"). The data has not left the process yet, so a failed audit write
            # withholds it rather than hand out an untraceable read; the caller may retry.
            error_id = uuid.uuid4().hex[:16]
            log.error("access event not recorded (id %s); result withheld", error_id, exc_info=True)
            sub_response.status_code = 500
            message = f"the access could not be recorded, so no data is returned (id {error_id})"
            error = GraphQLError(message, extensions={"code": "INTERNAL", "errorId": error_id})
            return ExecutionResult(data=None, errors=[error])
        return result


async def _record_access(
    context: Context, request_data: GraphQLRequestData, started: datetime
) -> None:
    operation = audit_log.describe_operation(
        query=request_data.query or "", operation_name=request_data.operation_name
    )
    event = audit_log.build_event(
        principal=context.principal,
        recorder=context.audit,
        operation=operation,
        purpose=audit_log.normalise_purpose(header=context.request.headers.get(PURPOSE_HEADER)),
        occurred_at=started,
    )
    # Its own short transaction: a mutation's unit of work has committed already, and the
    # read session may hold a snapshot open until the response is sent.
    async with unit_of_work(context.runtime.session_factory) as session:
        await audit_log.record(session=session, event=event)


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
        except HTTPException as refused:
            # What strawberry's own ASGI handler does with a body it cannot use (bad JSON,
            # no query, a mutation over GET): a plain 4xx instead of an unhandled exception.
            return PlainTextResponse(refused.reason, status_code=refused.status_code)
        finally:
            await context.close()
