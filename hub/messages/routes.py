"""`POST /messages` (an official CEB message, as it is) and `GET /declarations/{id}/message`
(the bytes a declaration was made from)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.access import audit_log
from hub.access.audit import AccessRecorder
from hub.access.authority import record_type
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.auth.tokens import TokenRejected
from hub.db import json_loads
from hub.declarations.models import Declaration
from hub.declarations.service import Declarant
from hub.messages import receipts, service
from hub.messages.catalog import MESSAGE_TYPES
from hub.messages.errors import MessageErrorCode, MessageIssue, MessageRefused
from hub.runtime import Runtime
from hub.standards.versions import parse_version

# The access log names a REST read by its route, as GraphQL reads by their operation.
READ_MESSAGE = "GET /declarations/{id}/message"

XML_TYPES = ("application/xml", "text/xml")


def _refusal(status: int, issues: list[MessageIssue], headers: dict[str, str] | None = None):
    return JSONResponse(
        {"messageType": None, "guid": None, "results": [], "errors": [i.as_json() for i in issues]},
        status_code=status,
        headers=headers,
    )


async def _principal(request: Request) -> Principal | Response:
    runtime: Runtime = request.app.state.runtime
    try:
        principal = await runtime.verifier.verify_header(request.headers.get("authorization"))
    except TokenRejected as rejected:
        return _refusal(
            401,
            [MessageIssue("UNAUTHENTICATED", rejected.description)],
            {"WWW-Authenticate": rejected.www_authenticate()},
        )
    request.state.client_id = principal.client_id
    return principal


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it grows past the limit (never buffered beyond it)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _wants_xml(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(t in accept for t in XML_TYPES) and "application/json" not in accept


async def post_message(request: Request) -> Response:
    """Declares the records of one CEB message as one batch."""
    runtime: Runtime = request.app.state.runtime
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    if not principal.has(Scope.DECLARE) or not principal.enterprise_code:
        issue = MessageIssue(
            "FORBIDDEN", "posting messages needs the declare scope and a bound enterprise"
        )
        return _refusal(403, [issue])
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in XML_TYPES:
        issue = MessageIssue(
            MessageErrorCode.UNSUPPORTED_MEDIA_TYPE, "send the message as application/xml"
        )
        return _refusal(415, [issue])
    limit = runtime.settings.max_message_bytes
    body = await _body(request, limit)
    if body is None:
        issue = MessageIssue(
            MessageErrorCode.MESSAGE_TOO_LARGE, f"a message holds at most {limit} bytes"
        )
        return _refusal(413, [issue])
    declarant = Declarant(client_id=principal.client_id, enterprise_code=principal.enterprise_code)
    try:
        async with runtime.session_factory() as session, session.begin():
            outcome = await service.import_message(
                session=session,
                declarant=declarant,
                body=body,
                validators=runtime.validators,
                rules=runtime.rules,
            )
    except MessageRefused as refused:
        return _refusal(refused.status, refused.issues)
    if _wants_xml(request):
        mtype = MESSAGE_TYPES[outcome.message_type]
        if mtype.receipt is None:
            issue = MessageIssue(
                MessageErrorCode.NOT_ACCEPTABLE,
                f"{mtype.name} has no receipt the hub can fill (its receipt carries numbers "
                "only the e-port assigns); the records were processed, ask for JSON",
            )
            return _refusal(406, [issue])
        return Response(receipts.render(mtype, outcome), media_type="application/xml")
    return JSONResponse(outcome.as_json())


def _may_read_message(principal: Principal, row: Declaration) -> bool:
    # The message is the record in clear, personal data and all, and cannot be masked:
    # only its declarant and customs with pii:read read it.
    if principal.enterprise_code and principal.enterprise_code == row.declarant:
        return True
    return principal.has(Scope.CUSTOMS_READ) and principal.has(Scope.PII_READ)


def _read_event(
    request: Request,
    principal: Principal,
    row: Declaration,
    started: datetime,
    confidential: audit_log.Confidentiality | None,
) -> audit_log.AccessEventCreate:
    """The access event of one message read: the declaration's record, under its declarant
    and every enterprise the record names in a role (as a GraphQL read of it)."""
    recorder = AccessRecorder()
    rtype = record_type(row.standard_id, parse_version(row.standard_version).major)
    payload = json_loads(row.payload)
    named = sorted(rtype.party_codes(payload)) if rtype and isinstance(payload, dict) else []
    recorder.touch(
        enterprises=(row.declarant, *named), records=(f"{row.standard_id}:{row.record_key}",)
    )
    operation = audit_log.Operation(
        "query", READ_MESSAGE, hashlib.sha256(READ_MESSAGE.encode()).hexdigest()
    )
    return audit_log.build_event(
        principal=principal,
        recorder=recorder,
        operation=operation,
        purpose=audit_log.normalise_purpose(header=request.headers.get(audit_log.PURPOSE_HEADER)),
        occurred_at=started,
        confidential=confidential,
    )


async def get_message(request: Request) -> Response:
    """The original XML of a declaration, byte for byte; the read goes to the access log."""
    runtime: Runtime = request.app.state.runtime
    principal = await _principal(request)
    if isinstance(principal, Response):
        return principal
    started = datetime.now(UTC)
    try:
        # Refused before anything is read: a read meant to be confidential never happens
        # unmarked.
        confidential = audit_log.confidentiality(
            principal=principal,
            basis=request.headers.get(audit_log.CONFIDENTIAL_HEADER),
            disclose_after=request.headers.get(audit_log.DISCLOSE_AFTER_HEADER),
            today=started.date(),
        )
    except audit_log.ConfidentialityRefused as refused:
        return _refusal(400, [MessageIssue(refused.code, refused.message)])
    declaration_id = request.path_params["declaration_id"]
    not_found = _refusal(404, [MessageIssue("NOT_FOUND", "no such message")])
    async with runtime.session_factory() as session, session.begin():
        row = await session.get(Declaration, declaration_id)
        if row is None or not _may_read_message(principal, row):
            return not_found  # the same answer whether it exists or not
        message = await service.message_of(session=session, declaration_id=declaration_id)
        if message is None:
            return not_found
        # Written with the read, in its transaction: no bytes leave unlogged.
        event = _read_event(request, principal, row, started, confidential)
        await audit_log.record(session=session, event=event)
    headers = {"ETag": f'"{message.content_hash}"', "Cache-Control": "private, no-store"}
    return Response(message.body, media_type="application/xml", headers=headers)


ROUTES = [
    Route("/messages", post_message, methods=["POST"]),
    Route("/declarations/{declaration_id}/message", get_message, methods=["GET"]),
]
