"""The log over HTTP: checkpoints (newest, witnessed), proofs, witnesses and cosigning.

GET /log/checkpoint, /log/checkpoint/witnessed, /log/witnesses, /log/proof/inclusion,
/log/proof/consistency, /log/keys, /log/tile/<L>/<N>[.p/<W>] (public) and
/log/tile/entries/<N>[.p/<W>] (whoever may read every declaration); POST /log/cosign
(scope `witness`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub.access import audit_log
from hub.access.audit import AccessRecorder
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.auth.tokens import TokenRejected
from hub.db import unit_of_work
from hub.declarations.models import Declaration
from hub.graphql.declarations.schema import (
    may_read_declaration,
    may_read_every_declaration,
    touch_declarations,
)
from hub.http.errors import error_body
from hub.log import keys, service, tiles
from hub.log.entry import Entry
from hub.log.policy import WitnessPolicy
from hub.log.service import LogError, LogErrorCode
from hub.runtime import Runtime

PURPOSE_HEADER = "hub-purpose"
MAX_COSIGN_BODY = 4096

_MAX_SIZE = 1 << 62


def _refuse(request: Request, error: LogError) -> Response:
    headers = {"Cache-Control": "no-store"}
    if error.code == LogErrorCode.PENDING:
        headers["Retry-After"] = "1"
    body = error_body(
        path=request.url.path, status=error.status, code=error.code.value, message=error.message
    )
    return JSONResponse(body, status_code=error.status, headers=headers)


def _int_param(request: Request, name: str, *, required: bool) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise LogError(LogErrorCode.BAD_REQUEST, f"the parameter {name!r} is required")
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > _MAX_SIZE:
        raise LogError(LogErrorCode.BAD_REQUEST, f"{name} must be a non-negative integer")
    return int(raw)


async def checkpoint(request: Request) -> Response:
    """The newest signed checkpoint (C2SP tlog-checkpoint), with its cosignatures."""
    runtime: Runtime = request.app.state.runtime
    try:
        async with runtime.session_factory() as session:
            text = await service.checkpoint(session=session)
    except LogError as error:
        return _refuse(request, error)
    return PlainTextResponse(text, headers={"Cache-Control": "no-cache"})


class _Unauthenticated(Exception):
    def __init__(self, response: Response):
        self.response = response


async def _principal(request: Request, runtime: Runtime) -> Principal:
    try:
        return await runtime.verifier.verify_header(request.headers.get("authorization"))
    except TokenRejected as rejected:
        body = error_body(
            path=request.url.path, status=401, code="UNAUTHENTICATED", message=rejected.description
        )
        raise _Unauthenticated(
            JSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": rejected.www_authenticate()}
            )
        ) from None


async def _record_read(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    started: datetime,
    *,
    row: Declaration | None = None,
    declarants: tuple[str, ...] = (),
) -> None:
    """Writes the access event of a proof or entry-bundle read (an entry is a declaration's
    provenance: who declared what, when, through which client)."""
    recorder = AccessRecorder()
    if row is not None:
        touch_declarations(recorder, [row])
    if declarants:
        recorder.touch(enterprises=declarants)
    operation = audit_log.Operation(
        type="query",
        name=f"GET {request.url.path}" if row is None else "GET /log/proof/inclusion",
        document_hash=hashlib.sha256(str(request.url.path).encode()).hexdigest(),
    )
    event = audit_log.build_event(
        principal=principal,
        recorder=recorder,
        operation=operation,
        purpose=audit_log.normalise_purpose(header=request.headers.get(PURPOSE_HEADER)),
        occurred_at=started,
    )
    async with unit_of_work(runtime.session_factory) as session:
        await audit_log.record(session=session, event=event)


async def inclusion(request: Request) -> Response:
    """{"leafIndex", "treeSize", "leafHash", "entry", "hashes"} for a readable declaration;
    the read is written to the access log like `declaration(id)`'s."""
    runtime: Runtime = request.app.state.runtime
    started = datetime.now(UTC)
    try:
        principal = await _principal(request, runtime)
    except _Unauthenticated as refused:
        return refused.response
    try:
        declaration_id = request.query_params.get("id", "")
        if not declaration_id or len(declaration_id) > 32:
            raise LogError(LogErrorCode.BAD_REQUEST, "id must be a declaration id")
        size = _int_param(request, "size", required=False)
        async with runtime.session_factory() as session:
            row = await session.get(Declaration, declaration_id)
            # The same rule as `declaration(id)`; unreadable and absent look the same.
            if row is None or not may_read_declaration(principal, row.declarant):
                raise LogError(LogErrorCode.NOT_FOUND, "no such declaration in the log")
            proof = await service.inclusion(
                session=session, declaration_id=declaration_id, size=size
            )
    except LogError as error:
        return _refuse(request, error)
    await _record_read(request, runtime, principal, started, row=row)
    return JSONResponse(proof.as_json(), headers={"Cache-Control": "no-store"})


def _policy(runtime: Runtime) -> WitnessPolicy | None:
    text = runtime.settings.log_witness_policy
    return WitnessPolicy.parse(text) if text else None


async def witnessed(request: Request) -> Response:
    """The newest checkpoint the witness policy's quorum cosigned, with its cosignatures."""
    runtime: Runtime = request.app.state.runtime
    policy = _policy(runtime)
    try:
        if policy is None:
            raise LogError(LogErrorCode.NOT_WITNESSED, "the hub has no witness policy")
        async with runtime.session_factory() as session:
            text = await service.witnessed_checkpoint(session=session, policy=policy)
    except LogError as error:
        return _refuse(request, error)
    return PlainTextResponse(text, headers={"Cache-Control": "no-cache"})


async def witnesses(request: Request) -> Response:
    """{"policy": "K of a,b", "witnesses": [{"name", "vkey"}]}: what a bank needs to check
    a witnessed checkpoint offline."""
    runtime: Runtime = request.app.state.runtime
    policy = _policy(runtime)
    async with runtime.session_factory() as session:
        keys = await service.witness_keys(session=session)
    return JSONResponse(
        {
            "policy": policy.text() if policy else None,
            "witnesses": [{"name": k.name, "vkey": k.vkey} for k in keys],
        },
        headers={"Cache-Control": "no-cache"},
    )


async def cosign(request: Request) -> Response:
    """A witness posts its cosignature: {"size": N, "cosignature": "— name base64\\n"}."""
    runtime: Runtime = request.app.state.runtime
    try:
        principal = await _principal(request, runtime)
    except _Unauthenticated as refused:
        return refused.response
    # Witnesses are the hub's own clients: an external issuer's client id is not one.
    if not principal.has(Scope.WITNESS) or principal.issuer_key is not None:
        body = error_body(
            path=request.url.path,
            status=403,
            code="FORBIDDEN",
            message="cosigning needs the scope 'witness'",
        )
        return JSONResponse(body, status_code=403)
    try:
        raw = await request.body()
        if len(raw) > MAX_COSIGN_BODY:
            raise LogError(LogErrorCode.BAD_REQUEST, "the body is too large")
        try:
            parsed: Any = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        fields = parsed if isinstance(parsed, dict) else {}
        size, line = fields.get("size"), fields.get("cosignature")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise LogError(LogErrorCode.BAD_REQUEST, "size must be a non-negative integer")
        if not isinstance(line, str):
            raise LogError(LogErrorCode.BAD_REQUEST, "cosignature must be a signature line")
        async with unit_of_work(runtime.session_factory) as session:
            name = await service.accept_cosignature(
                session=session,
                client_id=principal.client_id,
                size=size,
                line=line,
                now=datetime.now(UTC),
            )
    except LogError as error:
        return _refuse(request, error)
    return JSONResponse({"witness": name, "size": size}, headers={"Cache-Control": "no-store"})


async def consistency(request: Request) -> Response:
    """{"hashes": [...]}: PROOF(from, to) between two tree sizes (public, like checkpoints)."""
    runtime: Runtime = request.app.state.runtime
    try:
        old = _int_param(request, "from", required=True)
        new = _int_param(request, "to", required=True)
        assert old is not None and new is not None
        async with runtime.session_factory() as session:
            hashes = await service.consistency(session=session, old=old, new=new)
    except LogError as error:
        return _refuse(request, error)
    # Nodes never change once stored: a proof between two sizes is the same forever.
    return JSONResponse(
        {"hashes": [h.hex() for h in hashes]}, headers={"Cache-Control": "public, max-age=3600"}
    )


async def log_keys(request: Request) -> Response:
    """{"keys": [{"vkey", "createdAt", "retiredAt", "rotation"}]}: every key the log ever
    signed with, oldest first; each later key with the rotation note its predecessor signed,
    so a witness (or bank) that pinned an old key follows a rotation without trusting the
    JWKS alone."""
    runtime: Runtime = request.app.state.runtime
    async with runtime.session_factory() as session:
        found = await keys.published(session=session)
    return JSONResponse(
        {"keys": [k.as_json() for k in found]}, headers={"Cache-Control": "public, max-age=60"}
    )


# Full tiles never change; a partial tile of a given width never changes either (it is a
# prefix of the tile that will be full), so both may be cached for good.
_IMMUTABLE = "public, max-age=31536000, immutable"
# Entry bundles need a token: shared caches must not keep them.
_IMMUTABLE_PRIVATE = "private, max-age=31536000, immutable"


def _forbidden(request: Request, message: str) -> Response:
    body = error_body(path=request.url.path, status=403, code="FORBIDDEN", message=message)
    return JSONResponse(body, status_code=403, headers={"Cache-Control": "no-store"})


async def tile(request: Request) -> Response:
    """A C2SP tlog-tiles tile (public: hashes say nothing of a declaration) or an entry
    bundle (for whoever may read every declaration: each entry names a declarant, a client
    and a time, so the bundles would tell anyone who trades how much with the hub)."""
    runtime: Runtime = request.app.state.runtime
    started = datetime.now(UTC)
    try:
        wanted = tiles.parse_path(request.path_params["path"])
    except tiles.TileError as exc:
        return _refuse(request, LogError(LogErrorCode.BAD_REQUEST, str(exc)))
    principal = None
    if wanted.entries:
        try:
            principal = await _principal(request, runtime)
        except _Unauthenticated as refused:
            return refused.response
        if not may_read_every_declaration(principal):
            return _forbidden(request, "entry bundles are for readers of every declaration")
    try:
        async with runtime.session_factory() as session:
            data = await service.tile(session=session, tile=wanted)
    except LogError as error:
        return _refuse(request, error)
    if principal is not None:
        declarants = tuple(Entry.decode(e).declarant for e in tiles.unbundle(data))
        await _record_read(request, runtime, principal, started, declarants=declarants)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": _IMMUTABLE_PRIVATE if wanted.entries else _IMMUTABLE},
    )


ROUTES = [
    Route("/log/checkpoint", checkpoint, methods=["GET"]),
    Route("/log/checkpoint/witnessed", witnessed, methods=["GET"]),
    Route("/log/witnesses", witnesses, methods=["GET"]),
    Route("/log/cosign", cosign, methods=["POST"]),
    Route("/log/proof/inclusion", inclusion, methods=["GET"]),
    Route("/log/proof/consistency", consistency, methods=["GET"]),
    Route("/log/keys", log_keys, methods=["GET"]),
    Route("/log/tile/{path:path}", tile, methods=["GET"]),
]
