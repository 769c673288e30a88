"""Pure-ASGI middleware: request id, one log line per request, and request metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability import operations
from hub.observability.context import accept_or_generate, request_id_var
from hub.observability.logs import FIELDS, install_request_id_stamp
from hub.observability.metrics import HubMetrics, metrics

log = logging.getLogger("hub.request")

REQUEST_ID_HEADER = "x-request-id"
# Keys of the per-request state dict (`request.state.<key>` in Starlette) shared with
# the endpoints: the endpoint that verifies the token stores the client id there.
STATE_REQUEST_ID = "request_id"
STATE_CLIENT_ID = "client_id"
# (query, operationName) as the GraphQL endpoint parsed them from the body: the request log
# reads them here instead of parsing the body a second time (a 500-record declareBatch is
# ~340 kB of JSON, ~9 ms of stdlib parsing).
STATE_GRAPHQL_DOCUMENT = "graphql_document"
# Bodies up to this size are kept as they stream past and parsed once the response is
# sent, for the operation name; larger ones (big declareBatch calls) are not parsed twice.
MAX_PARSED_BODY = 1024 * 1024
UNMATCHED_ROUTE = "unmatched"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))  # latin-1 decodes any byte: never fails
    return None


def _route_template(scope: Scope) -> str:
    # The template (`/standards/{id}/{version}`), never the raw path: raw paths of
    # scanners and typos would make one metric series each.
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class _BodyTap:
    """Keeps a copy of a small request body as the app reads it (never reads it itself)."""

    def __init__(self, receive: Receive, *, limit: int):
        self._receive = receive
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        self.complete = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and self._size <= self._limit:
            body = message.get("body", b"")
            self._size += len(body)
            if self._size > self._limit:
                self._chunks = []  # too big to parse cheaply: stop keeping it
            else:
                self._chunks.append(body)
                self.complete = not message.get("more_body", False)
        return message

    def json(self) -> Any:
        if not self.complete:
            return None
        try:
            return json.loads(b"".join(self._chunks))
        except (ValueError, RecursionError):
            # A body nested thousands deep exhausts the parser's recursion: that is the
            # endpoint's refusal to make, not a reason for the request log to fail.
            return None


def _graphql_operation(
    scope: Scope, tap: _BodyTap | None, state: dict[str, Any]
) -> operations.Operation | None:
    """The operation asked for, or None when the request carries no readable document
    (GraphiQL page loads, bodies too large to parse twice)."""
    parsed = state.get(STATE_GRAPHQL_DOCUMENT)
    if isinstance(parsed, tuple):
        document, name = parsed
    elif scope["method"] == "GET":
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        document = params.get("query", [None])[0]
        name = params.get("operationName", [None])[0]
    else:
        data = tap.json() if tap is not None else None
        if not isinstance(data, dict):
            return None
        document, name = data.get("query"), data.get("operationName")
    if not isinstance(document, str):
        return None
    return operations.describe(document, name if isinstance(name, str) else None)


class RequestLogMiddleware:
    """Gives each HTTP request an id, logs one line when it ends, and counts it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        graphql_path: str = "/graphql",
        registry: HubMetrics | None = None,
    ):
        self.app = app
        self.graphql_path = graphql_path
        self.metrics = registry or metrics
        install_request_id_stamp()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = accept_or_generate(_header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state[STATE_REQUEST_ID] = request_id
        token = request_id_var.set(request_id)
        is_graphql = scope.get("path") == self.graphql_path
        tap: _BodyTap | None = None
        if is_graphql and scope["method"] == "POST":
            content_type = _header(scope, b"content-type") or ""
            if content_type.startswith("application/json"):
                tap = _BodyTap(receive, limit=MAX_PARSED_BODY)
                receive = tap
        status = 500  # what the client gets if the app raises before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not any(key.lower() == b"x-request-id" for key, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            try:
                operation = _graphql_operation(scope, tap, state) if is_graphql else None
                self._finish(scope, state, status, seconds, operation)
            finally:
                request_id_var.reset(token)

    def _finish(
        self,
        scope: Scope,
        state: dict[str, Any],
        status: int,
        seconds: float,
        operation: operations.Operation | None,
    ) -> None:
        method = scope["method"]
        path = scope.get("path", "")
        route = _route_template(scope)
        self.metrics.count_request(method=method, route=route, status=status, seconds=seconds)
        if operation is not None:
            self.metrics.count_operation(operation_type=operation.type, name=operation.name)
        client_id = state.get(STATE_CLIENT_ID)
        fields: dict[str, Any] = {
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_id": client_id if isinstance(client_id, str) else None,
            # The peer, or the client a trusted proxy reported (hub/http/proxies.py).
            "remote_addr": (scope.get("client") or (None,))[0],
        }
        if operation is not None:
            fields["operation_type"] = operation.type
            fields["operation_name"] = operation.name
        log.info("%s %s %s %.1fms", method, path, status, seconds * 1000, extra={FIELDS: fields})
