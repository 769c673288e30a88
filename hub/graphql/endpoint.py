"""The /graphql endpoint: GraphQL over HTTP, bearer-token check, rate limit, then strawberry.

The HTTP side follows the GraphQL-over-HTTP specification
(https://graphql.github.io/graphql-over-http/draft/) and is done here rather than by
strawberry's view, whose status codes and media types predate it:

- responses are `application/graphql-response+json` or, for legacy clients,
  `application/json`, chosen from `Accept` (missing or `*/*`: `application/json`);
  nothing acceptable is 406;
- POST takes `application/json` (UTF-8) only, anything else is 415; GET takes the
  parameters from the URL and never runs a mutation (405, `Allow: POST`);
- a request error (unparsable body or parameters: 400; a document that does not parse or
  validate, variables that do not coerce) is 400 with `application/graphql-response+json`
  and 200 with `application/json`, as the specification's legacy rules ask;
- a resolver that could not reach the database makes the whole response 503.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.federation import Schema
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from hub.access import audit_log
from hub.auth.principal import Principal
from hub.auth.tokens import TokenRejected
from hub.config import Settings
from hub.documents import service as documents
from hub.graphql.compiled.execute import CompiledExecution
from hub.graphql.context import Context
from hub.graphql.documents import parse_document
from hub.graphql.events import sse_response, wants_event_stream
from hub.http import caching, rate_limit, unavailable
from hub.observability.metrics import metrics
from hub.observability.request_log import STATE_GRAPHQL_DOCUMENT
from hub.runtime import Runtime
from hub.web import graphiql

log = logging.getLogger("hub.graphql")

PURPOSE_HEADER = audit_log.PURPOSE_HEADER
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


# --- content negotiation ----------------------------------------------------------------


def negotiate(accept: str | None) -> str | None:
    """The response media type for an `Accept` header, or None when none is acceptable."""
    if accept is None or not accept.strip():
        return JSON  # the specification's legacy default
    best: tuple[float, int, str] | None = None
    for index, item in enumerate(accept.split(",")):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            chosen = GRAPHQL_RESPONSE_JSON
        elif media in (JSON, "application/*", "*/*"):
            # A wildcard means a client that does not know the new type: answer the old one.
            chosen = JSON
        else:
            continue
        # Highest quality wins; on a tie, the type the client listed first.
        candidate = (quality, -index, chosen)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


# --- reading the request ----------------------------------------------------------------


class RequestRefused(Exception):
    """The HTTP request cannot be a GraphQL request; answered with `status` before GraphQL."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _bad_request(message: str) -> RequestRefused:
    return RequestRefused(400, "BAD_REQUEST", message)


@dataclass(frozen=True)
class GraphQLParams:
    """The GraphQL request carried by one HTTP request."""

    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    # `sha256:<hex>` when the request named a trusted document instead of sending its
    # text; `query` is then filled in from the registry (see `resolve_document`).
    document_id: str | None = None


def _params(data: Mapping[str, Any]) -> GraphQLParams:
    raw_id = data.get("documentId")
    query = data.get("query")
    document_id = None
    if raw_id is not None:
        if not isinstance(raw_id, str) or (document_id := documents.normalise_id(raw_id)) is None:
            raise _bad_request("`documentId` must be `sha256:` followed by 64 hex digits")
        if query is not None:
            raise _bad_request("send either `query` or `documentId`, not both")
        query = ""
    elif not isinstance(query, str) or not query.strip():
        raise _bad_request("`query` must be a non-empty string")
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad_request("`operationName` must be a string or null")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise _bad_request("`variables` must be an object or null")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad_request("`extensions` must be an object or null")
    return GraphQLParams(query, operation_name, variables, extensions, document_id)


def _json_param(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise _bad_request(f"`{name}` must be JSON") from exc


async def _read_shared(request: Request) -> GraphQLParams:
    """`read_params`, leaving the document for the request log (it parses no body again)."""
    params = await read_params(request)
    setattr(request.state, STATE_GRAPHQL_DOCUMENT, (params.query, params.operation_name))
    return params


def _loads(body: bytes) -> Any:
    """The JSON body: orjson (several times faster), and where it refuses a body the
    standard library takes (NaN, integers beyond 64 bits, lone surrogates, deep nesting)
    the standard library's answer, so that every body is read as it always was."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body.decode("utf-8"))


async def read_params(request: Request) -> GraphQLParams:
    """The GraphQL parameters of a GET (URL) or POST (JSON body) request."""
    if request.method == "GET":
        query_params = request.query_params
        if len(query_params.getlist("query")) > 1:
            raise _bad_request("`query` given more than once")
        return _params(
            {
                "query": query_params.get("query"),
                "documentId": query_params.get("documentId"),
                "operationName": query_params.get("operationName") or None,
                "variables": _json_param(request, "variables"),
                "extensions": _json_param(request, "extensions"),
            }
        )
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise RequestRefused(415, "UNSUPPORTED_MEDIA_TYPE", "send the request as application/json")
    media, _, params = content_type.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media.strip().lower() != JSON or charset not in ("utf-8", "utf8"):
        raise RequestRefused(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"unsupported content type {content_type!r}: send application/json (UTF-8)",
        )
    body = await request.body()
    if not body.strip():
        raise _bad_request("the request body is empty")
    try:
        data = _loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad_request("the request body is not valid UTF-8 JSON") from exc
    except RecursionError as exc:
        # Thousands of nested brackets fit in a small body; refuse them as bad input.
        raise _bad_request("the request body nests JSON too deeply") from exc
    if isinstance(data, list):
        raise _bad_request("batched requests are not supported: send one JSON object")
    if not isinstance(data, dict):
        raise _bad_request("the request body must be a JSON object")
    return _params(data)


TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"


class DocumentCache:
    """Texts of trusted documents by id. An id is the hash of its text, so an entry never
    goes stale; unknown ids are not remembered (the document may be registered later)."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._bodies: dict[str, str] = {}

    async def body(self, runtime: Runtime, identifier: str) -> str | None:
        """The document's text, from memory or the registry."""
        cached = self._bodies.get(identifier)
        if cached is not None:
            return cached
        async with runtime.session_factory() as session:
            body = await documents.get_body(session=session, identifier=identifier)
        if body is not None:
            if len(self._bodies) >= self._size:
                self._bodies.pop(next(iter(self._bodies)))
            self._bodies[identifier] = body
        return body


async def resolve_document(
    params: GraphQLParams, *, runtime: Runtime, cache: DocumentCache, required: bool
) -> GraphQLParams:
    """The parameters with the trusted document's text; refuses what the mode forbids."""
    if params.document_id is None:
        if required:
            raise RequestRefused(
                400,
                TRUSTED_DOCUMENT_REQUIRED,
                "this hub runs only registered documents: send `documentId` "
                "(sha256 of a document registered with `hub documents register`)",
            )
        return params
    body = await cache.body(runtime, params.document_id)
    if body is None:
        raise RequestRefused(
            400, DOCUMENT_NOT_FOUND, f"no trusted document {params.document_id} is registered"
        )
    return dataclasses.replace(params, query=body)


# --- responses --------------------------------------------------------------------------


def _json_response(
    payload: Mapping[str, Any],
    *,
    status: int,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        status_code=status,
        headers={**(headers or {}), "content-type": f"{media_type}; charset=utf-8"},
    )


def _error_response(
    status: int,
    code: str,
    message: str,
    *,
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
) -> Response:
    payload = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return _json_response(payload, status=status, media_type=media_type, headers=headers)


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation never started: parse, validation or variable errors.

    Those errors have no `path`; an error during execution always has one, and leaves
    `data` (possibly null, when it reached a non-null root field) in the response.
    """
    errors = result.errors or []
    return result.data is None and bool(errors) and all(not e.path for e in errors)


class _InternalFailure(ExecutionResult):
    """A result the hub itself failed to deliver (HTTP 500)."""


def _refusal_of(result: ExecutionResult) -> unavailable.Refusal | None:
    """The database refusal (unavailable or busy) one of the result's errors reports."""
    for error in result.errors or ():
        refusal = unavailable.refusal_of_code((error.extensions or {}).get("code"))
        if refusal is not None:
            return refusal
    return None


def _status_of(result: ExecutionResult, media_type: str) -> int:
    if isinstance(result, _InternalFailure):
        return 500
    if _refusal_of(result) is not None:
        return 503
    if is_request_error(result) and media_type == GRAPHQL_RESPONSE_JSON:
        return 400
    return 200


def _cacheable(request: Request, response: Response) -> Response:
    """A GET answer: private to the caller, revalidated each time, 304 when unchanged.

    The answer depends on the bearer token, so shared caches (proxies) must not keep it
    (`private`); a browser or client cache may, but asks again each time (`no-cache`),
    and an unchanged answer then costs a 304 instead of the body. The operation has run
    (and been recorded in the access log) either way.
    """
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Authorization, Accept"
    response.headers["ETag"] = caching.strong_etag(bytes(response.body))
    if caching.none_match(request.headers.get("if-none-match"), response.headers["ETag"]):
        return caching.not_modified(response.headers)
    return response


# --- the endpoint -----------------------------------------------------------------------


async def _record_access(context: Context, params: GraphQLParams, started: datetime) -> None:
    operation = audit_log.describe_operation(
        query=params.query, operation_name=params.operation_name
    )
    event = audit_log.build_event(
        principal=context.principal,
        recorder=context.audit,
        operation=operation,
        purpose=audit_log.normalise_purpose(header=context.request.headers.get(PURPOSE_HEADER)),
        occurred_at=started,
        document_id=params.document_id,
        confidential=context.confidential,
    )
    # Group-committed with the events of concurrent requests, in a transaction of its
    # own: a mutation's unit of work has committed already, and the read session is closed
    # (a read never takes SQLite's write lock inside its read transaction).
    await context.runtime.audit_writer.record(event=event)


def _operation_count(query: str | None) -> int:
    """How many operations a document defines (0 when it does not parse)."""
    document = parse_document(query)
    if document is None:
        return 0
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def _wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


class GraphQLEndpoint:
    """ASGI app for /graphql: GraphiQL for browsers, authenticated GraphQL for clients."""

    def __init__(self, *, schema: Schema, settings: Settings, runtime: Runtime) -> None:
        self.schema = schema
        self.graphiql = not settings.is_production
        self.trusted_required = settings.trusted_documents == "required"
        self.documents = DocumentCache()
        self.compiled = (
            CompiledExecution(schema=schema, settings=settings)
            if settings.compiled_execution
            else None
        )
        self.limiter = (
            rate_limit.RateLimiter(
                storage=runtime.rate_limit_storage,
                rate=settings.rate_limit_per_second,
                burst=settings.rate_limit_burst,
                namespace="graphql",
            )
            if settings.rate_limit_per_second > 0
            else None
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Serves GraphiQL, refuses what is not a permitted GraphQL request, or runs it."""
        if request.method not in ("GET", "POST"):
            return _error_response(
                405, "METHOD_NOT_ALLOWED", "use GET or POST", headers={"Allow": "GET, POST"}
            )
        if self.graphiql and _wants_ide(request):
            # The hub's own page: bundles from its origin, a sign-in panel (hub/web).
            return graphiql.page(request.app.state.graphiql_assets)
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
        # The request log (hub.observability) reads who called from the request state.
        request.state.client_id = principal.client_id
        if self.limiter is not None:
            wait = await self.limiter.acquire(principal.issuer, principal.client_id)
            if wait > 0:
                metrics.rate_limited.inc()
                return _error_response(
                    429,
                    rate_limit.CODE,
                    "too many requests from this client; retry after the Retry-After delay",
                    headers={"Retry-After": rate_limit.retry_after_header(wait)},
                )
        if wants_event_stream(request):
            # GraphQL over SSE (distinct connections): the event feed's subscriptions.
            try:
                params = await resolve_document(
                    await _read_shared(request),
                    runtime=runtime,
                    cache=self.documents,
                    required=self.trusted_required,
                )
            except RequestRefused as refused:
                return _error_response(refused.status, refused.code, refused.message)
            return await sse_response(
                schema=self.schema,
                request=request,
                principal=principal,
                runtime=runtime,
                query=params.query,
                variables=params.variables,
                operation_name=params.operation_name,
            )
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            return _error_response(
                406,
                "NOT_ACCEPTABLE",
                f"this endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}",
            )
        try:
            params = await resolve_document(
                await _read_shared(request),
                runtime=runtime,
                cache=self.documents,
                required=self.trusted_required,
            )
        except RequestRefused as refused:
            return _error_response(
                refused.status,
                refused.code,
                refused.message,
                media_type=media_type,
                headers=refused.headers,
            )
        return await self._run(request, principal, runtime, params, media_type)

    async def _run(
        self,
        request: Request,
        principal: Principal,
        runtime: Runtime,
        params: GraphQLParams,
        media_type: str,
    ) -> Response:
        if params.operation_name is None and _operation_count(params.query) > 1:
            # GraphQL over HTTP: several operations need `operationName` to pick one.
            return _error_response(
                400,
                "BAD_REQUEST",
                "the document holds several operations: name one with `operationName`",
                media_type=media_type,
            )
        started = datetime.now(UTC)
        try:
            # Refused before anything runs: a read meant to be confidential never happens
            # unmarked.
            confidential = audit_log.confidentiality(
                principal=principal,
                basis=request.headers.get(audit_log.CONFIDENTIAL_HEADER),
                disclose_after=request.headers.get(audit_log.DISCLOSE_AFTER_HEADER),
                today=started.date(),
            )
        except audit_log.ConfidentialityRefused as refused:
            return _error_response(400, refused.code, refused.message, media_type=media_type)

        def new_context() -> Context:
            return Context(
                request=request, principal=principal, runtime=runtime, confidential=confidential
            )

        context = new_context()
        operation = audit_log.describe_operation(
            query=params.query, operation_name=params.operation_name
        )
        span_name = f"{operation.type} {operation.name}" if operation.name else operation.type
        with runtime.tracer.start_as_current_span(
            span_name,
            attributes={
                "graphql.operation.type": operation.type,
                "graphql.operation.name": operation.name or "",
                "graphql.document.sha256": operation.document_hash,
                "hub.client_id": principal.client_id,
            },
        ) as span:
            compiled: ExecutionResult | None = None
            if self.compiled is not None:
                outcome = await self.compiled.run(
                    query=params.query,
                    operation_name=params.operation_name,
                    variables=params.variables,
                    make_context=new_context,
                )
                if outcome is not None:
                    context = outcome.context
                    compiled = ExecutionResult(data=outcome.data, errors=outcome.errors or None)
            try:
                result: ExecutionResult | Response
                if compiled is not None:
                    result = await self._audited(context, params, started, compiled)
                else:
                    result = await self._strawberry(context, request, params, started, media_type)
                if isinstance(result, Response):
                    return result
            finally:
                await context.close()
            if result.errors:
                codes = sorted({str((e.extensions or {}).get("code", "")) for e in result.errors})
                span.set_attribute("graphql.error.codes", codes)
        status = _status_of(result, media_type)
        if compiled is not None and result is compiled and not compiled.errors:
            # The compiled path's data is plain values: orjson writes the same bytes.
            body = orjson.dumps({"data": compiled.data})
            response = Response(
                body, status_code=200, headers={"content-type": f"{media_type}; charset=utf-8"}
            )
            return _cacheable(request, response) if request.method == "GET" else response
        payload: dict[str, Any] = dict(process_result(result))
        if media_type == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            # The specification: no `data` entry when execution never started.
            payload.pop("data", None)
        refusal = _refusal_of(result) if status == 503 else None
        headers = {"Retry-After": str(refusal.retry_after)} if refusal else {}
        response = _json_response(payload, status=status, media_type=media_type, headers=headers)
        if request.method == "GET" and status == 200:
            return _cacheable(request, response)
        return response

    async def _strawberry(
        self,
        context: Context,
        request: Request,
        params: GraphQLParams,
        started: datetime,
        media_type: str,
    ) -> ExecutionResult | Response:
        """Runs the operation through strawberry (a Response: refused as an HTTP error)."""
        # GET is safe by definition: only queries. The operation type is known once the
        # document is parsed, so strawberry refuses it and we answer 405 below.
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = await self.schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as refused:
            if request.method == "GET" and refused.operation_type is OperationType.MUTATION:
                return _error_response(
                    405,
                    "METHOD_NOT_ALLOWED",
                    "mutations are only accepted over POST",
                    media_type=media_type,
                    headers={"Allow": "POST"},
                )
            message = refused.as_http_error_reason(request.method)
            result = ExecutionResult(data=None, errors=[GraphQLError(message)])
        except CannotGetOperationTypeError as refused:
            result = ExecutionResult(
                data=None, errors=[GraphQLError(refused.as_http_error_reason())]
            )
        except MissingQueryError:
            return _error_response(
                400, "BAD_REQUEST", "no GraphQL query found", media_type=media_type
            )
        return await self._audited(context, params, started, result)

    async def _audited(
        self,
        context: Context,
        params: GraphQLParams,
        started: datetime,
        result: ExecutionResult,
    ) -> ExecutionResult:
        """Writes the operation's access event when it returned graph data."""
        # Refusals before execution (401, limits, unparsable or invalid documents) never
        # reach a resolver, so nothing is touched and nothing is logged; field errors are.
        if not context.audit.touched:
            return result
        # Release the read connection first: a request that held it while waiting for a
        # second one (the event's) deadlocked the pool once as many requests were in
        # flight as it had connections. A request holds at most one connection at a time.
        await context.close()
        try:
            await _record_access(context, params, started)
        except Exception as exc:
            # Fail closed: the hub promises that every read is logged ("trackable where it
            # went"). The data has not left the process yet, so a failed audit write
            # withholds it rather than hand out an untraceable read; the caller may retry.
            refusal = unavailable.refusal_for(exc)
            if refusal is not None:
                unavailable.note(exc, where="access event not recorded, result withheld")
                error = GraphQLError(refusal.message, extensions={"code": refusal.code})
                return ExecutionResult(data=None, errors=[error])
            error_id = uuid.uuid4().hex[:16]
            log.error("access event not recorded (id %s); result withheld", error_id, exc_info=True)
            message = f"the access could not be recorded, so no data is returned (id {error_id})"
            error = GraphQLError(message, extensions={"code": "INTERNAL", "errorId": error_id})
            # A path-less error with no data would read as a request error: mark it 500.
            return _InternalFailure(data=None, errors=[error])
        return result
