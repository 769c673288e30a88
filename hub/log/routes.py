"""GET /log/checkpoint, /log/proof/inclusion and /log/proof/consistency."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub.auth.tokens import TokenRejected
from hub.declarations.models import Declaration
from hub.graphql.declarations.schema import may_read_declaration
from hub.http.errors import error_body
from hub.log import service
from hub.log.service import LogError, LogErrorCode
from hub.runtime import Runtime

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


async def inclusion(request: Request) -> Response:
    """{"leafIndex", "treeSize", "leafHash", "entry", "hashes"} for a readable declaration."""
    runtime: Runtime = request.app.state.runtime
    try:
        principal = await runtime.verifier.verify_header(request.headers.get("authorization"))
    except TokenRejected as rejected:
        body = error_body(
            path=request.url.path, status=401, code="UNAUTHENTICATED", message=rejected.description
        )
        return JSONResponse(
            body, status_code=401, headers={"WWW-Authenticate": rejected.www_authenticate()}
        )
    try:
        declaration_id = request.query_params.get("id", "")
        if not declaration_id or len(declaration_id) > 32:
            raise LogError(LogErrorCode.BAD_REQUEST, "id must be a declaration id")
        size = _int_param(request, "size", required=False)
        async with runtime.session_factory() as session:
            declarant = await session.scalar(
                Declaration.__table__.select()
                .with_only_columns(Declaration.declarant)
                .where(Declaration.id == declaration_id)
            )
            # The same rule as `declaration(id)`; unreadable and absent look the same.
            if declarant is None or not may_read_declaration(principal, declarant):
                raise LogError(LogErrorCode.NOT_FOUND, "no such declaration in the log")
            proof = await service.inclusion(
                session=session, declaration_id=declaration_id, size=size
            )
    except LogError as error:
        return _refuse(request, error)
    return JSONResponse(proof.as_json(), headers={"Cache-Control": "no-store"})


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


ROUTES = [
    Route("/log/checkpoint", checkpoint, methods=["GET"]),
    Route("/log/proof/inclusion", inclusion, methods=["GET"]),
    Route("/log/proof/consistency", consistency, methods=["GET"]),
]
