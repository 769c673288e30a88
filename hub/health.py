"""GET /healthz: is this process up and can it reach its database."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.runtime import Runtime

_DB_TIMEOUT_SECONDS = 3.0


async def healthz(request: Request) -> Response:
    """Reports database reachability: 200 when reachable, 503 when not."""
    runtime: Runtime = request.app.state.runtime
    try:
        async with asyncio.timeout(_DB_TIMEOUT_SECONDS):
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
            status_code=503,
        )
    body: dict[str, object] = {"status": "ok", "database": "ok"}
    if runtime.replicas is not None:
        # Each replica's state and lag (bytes of WAL not yet replayed, and seconds).
        body["replicas"] = await runtime.replicas.status(primary=runtime.engine)
    if runtime.log is not None and runtime.log.signer is not None:
        body["log"] = runtime.log.health()  # the merge delay the sequencer achieved
    return JSONResponse(body)


ROUTES = [Route("/healthz", healthz, methods=["GET"])]
