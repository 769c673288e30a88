"""The event feed in GraphQL: `subscription { events(after, kinds) { ... } }`.

Two transports carry it: `graphql-transport-ws` on `/graphql` (a WebSocket; the token in
`connection_init`'s payload as `Authorization`, or on the upgrade request) and GraphQL
over SSE in its distinct-connections mode (`POST /graphql` with
`Accept: text/event-stream`, the token in the usual header). Both run only subscriptions,
so nothing can read the graph past the HTTP endpoint's access log and limits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import strawberry
from graphql import GraphQLError, print_ast
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import process_result
from strawberry.scalars import JSON
from strawberry.schema.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.access.audit_log import Operation, normalise_purpose
from hub.auth.principal import Principal
from hub.auth.tokens import TokenRejected
from hub.documents import service as documents
from hub.events import feed, stream
from hub.events.kinds import EventKind as EventKindValue
from hub.events.models import Event as EventRow
from hub.graphql.context import Context, Info
from hub.runtime import Runtime

# strawberry.enum registers the GraphQL enum on the class itself and returns it.
strawberry.enum(EventKindValue, name="EventKind", description="Kinds of change.")
EventKind = EventKindValue
SUBSCRIPTION_ONLY = frozenset({OperationType.SUBSCRIPTION})
EVENT_STREAM = "text/event-stream"
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
FIRST_RESULT_WAIT = 0.5  # seconds


class FeedRefused(Exception):
    """A feed argument the caller can correct (BAD_USER_INPUT, with the feed's reason)."""

    def __init__(self, error: feed.FeedError) -> None:
        super().__init__(error.message)
        self.extensions = {"code": "BAD_USER_INPUT", "reason": error.code.value}


class StreamStopped(Exception):
    """The subscriber's token stopped being valid during the stream."""

    def __init__(self, ended: stream.StreamEnded) -> None:
        super().__init__(ended.message)
        self.extensions = {"code": ended.code}


@strawberry.type(description="The record an event is about: its standard and key.")
class EventRecord:
    standard: str
    key: str


@strawberry.type(description="One change from the event log: what changed, with references.")
class Event:
    cursor: str = strawberry.field(description="Resume after this event with `after: cursor`.")
    kind: EventKind
    occurred_at: datetime
    enterprise_codes: list[str]
    record: EventRecord | None
    detail: JSON = strawberry.field(
        description="What changed (a status from → to, a version, appType), never a payload."
    )

    @classmethod
    def of(cls, row: EventRow) -> Event:
        """The GraphQL shape of a stored event."""
        record = (
            EventRecord(standard=row.standard_id, key=row.record_key)
            if row.standard_id and row.record_key
            else None
        )
        return cls(
            cursor=str(row.position),
            kind=EventKindValue(row.kind),
            occurred_at=row.occurred_at,
            enterprise_codes=list(row.enterprise_codes),
            record=record,
            detail=cast(JSON, dict(row.detail or {})),
        )


@dataclass
class StreamContext(Context):
    """The context of a streamed operation: the bearer header it re-checks every batch."""

    authorization: str | None = None
    connection_params: dict[str, Any] | None = field(default=None, repr=False)


def _operation(info: Info) -> Operation:
    name = info.operation.name.value if info.operation.name else None
    digest = hashlib.sha256(print_ast(info.operation).encode("utf-8")).hexdigest()
    return Operation("subscription", name, digest)


@strawberry.type
class EventsSubscription:
    @strawberry.subscription(
        description=(
            "The event log after `after` (a cursor; none: from the start), then live, in "
            "order; only the events the caller may read now, under the same policy as the "
            "graph. Reconnect with the last cursor received: nothing is missed or repeated."
        )
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        kinds: list[EventKind] | None = None,
    ) -> AsyncGenerator[Event, None]:
        context = info.context
        try:
            position = feed.parse_cursor(after)
            wanted = frozenset(EventKindValue(k) for k in kinds) if kinds else None
            source = stream.events(
                runtime=context.runtime,
                authorization=getattr(context, "authorization", None),
                after=position,
                kinds=wanted,
                operation=_operation(info),
                purpose=normalise_purpose(header=_header(context, "hub-purpose")),
            )
            async with aclosing(source):  # type: ignore[type-var]  # an async generator
                async for item in source:
                    yield Event.of(item.event)
        except feed.FeedError as error:
            raise FeedRefused(error) from None
        except stream.StreamEnded as ended:
            raise StreamStopped(ended) from None


def _header(context: Context, name: str) -> str | None:
    headers = getattr(context.request, "headers", None)
    return headers.get(name) if headers is not None else None


# --- graphql-transport-ws ----------------------------------------------------------------


class _SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws that runs subscriptions only (queries go over HTTP, where the
    access log, the limits and the rate limit apply)."""

    async def run_operation(self, operation: Any) -> None:
        runtime: Runtime = self.view.runtime  # type: ignore[attr-defined]
        if runtime.settings.trusted_documents == "required":
            # Production allow-listing holds here too: only registered documents run.
            async with runtime.session_factory() as session:
                known = await documents.get_body(
                    session=session, identifier=documents.document_id(operation.query or "")
                )
            if known is None:
                error = GraphQLError(
                    "this hub runs only registered documents (hub documents register)",
                    extensions={"code": "TRUSTED_DOCUMENT_REQUIRED"},
                )
                await operation.send_initial_errors([error])
                return
        original = self.schema.stream

        async def only_subscriptions(*args: Any, **kwargs: Any) -> Any:
            kwargs["allowed_operation_types"] = SUBSCRIPTION_ONLY
            return await original(*args, **kwargs)

        self.schema = _SchemaView(self.schema, only_subscriptions)  # type: ignore[assignment]
        await super().run_operation(operation)


class _SchemaView:
    """The schema with `stream` replaced (the handler calls nothing else on it)."""

    def __init__(self, schema: Any, stream_fn: Any) -> None:
        self._schema = schema
        self.stream = stream_fn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)


class EventsWebSocket(GraphQL[StreamContext, None]):
    """The WebSocket side of /graphql: graphql-transport-ws, subscriptions only."""

    def __init__(self, *, schema: BaseSchema, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any) -> StreamContext:
        # Not yet authenticated: on_ws_connect sets the principal from connection_init.
        nobody = Principal(
            client_id="", name="", scopes=frozenset(), enterprise_code=None, issuer=""
        )
        return StreamContext(request=request, principal=nobody, runtime=self.runtime)

    async def on_ws_connect(self, context: StreamContext) -> None:
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str):
            authorization = _header(context, "authorization")
        try:
            context.principal = await self.runtime.verifier.verify_header(authorization)
        except TokenRejected as rejected:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from rejected
        context.authorization = authorization
        return None

    graphql_transport_ws_handler_class = _SubscriptionsOnlyHandler


# --- GraphQL over SSE (distinct connections) ---------------------------------------------


def wants_event_stream(request: Request) -> bool:
    """True for a POST whose Accept names text/event-stream (GraphQL over SSE)."""
    return request.method == "POST" and EVENT_STREAM in request.headers.get("accept", "").lower()


def _sse(event: str, data: Mapping[str, Any] | None) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) if data is not None else ""
    return f"event: {event}\ndata: {text}\n\n".encode()


async def sse_response(
    *,
    schema: BaseSchema,
    request: Request,
    principal: Principal,
    runtime: Runtime,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Response:
    """Runs a subscription and streams its results as `next` events, then `complete`."""
    context = StreamContext(
        request=request,
        principal=principal,
        runtime=runtime,
        authorization=request.headers.get("authorization"),
    )
    results = await schema.stream(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        allowed_operation_types=SUBSCRIPTION_ONLY,
    )
    iterator = aiter(results)
    # A refusal (parse, validation, a query sent here, a bad cursor) comes at once; a
    # valid subscription may wait long for its first event, so the stream starts anyway.
    first = asyncio.ensure_future(anext(iterator))
    await asyncio.wait({first}, timeout=FIRST_RESULT_WAIT)
    if first.done() and first.exception() is None:
        result = first.result()
        if isinstance(result, ExecutionResult) and result.data is None and result.errors:
            await results.aclose()
            return Response(
                json.dumps(dict(process_result(result)), ensure_ascii=False).encode("utf-8"),
                status_code=400,
                media_type="application/json",
            )

    async def body() -> AsyncIterator[bytes]:
        try:
            async with aclosing(results):
                try:
                    yield _sse("next", process_result(await first))  # type: ignore[arg-type]
                except StopAsyncIteration:
                    pass
                else:
                    async for item in iterator:
                        yield _sse("next", process_result(item))  # type: ignore[arg-type]
            yield _sse("complete", None)
        finally:
            first.cancel()

    return StreamingResponse(
        body(),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
