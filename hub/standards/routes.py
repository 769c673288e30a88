"""GET /standards/{id}/{version}: the raw schema, as application/schema+json."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.canonical import canonical_json
from hub.http import caching
from hub.runtime import Runtime
from hub.standards import service
from hub.standards.errors import StandardsError
from hub.standards.models import VersionState
from hub.standards.versions import check_standard_id, parse_version

SCHEMA_MEDIA_TYPE = "application/schema+json"


async def raw_schema(request: Request) -> Response:
    """Serves a published (or deprecated/retired) schema with `$id` set to its own URL."""
    runtime: Runtime = request.app.state.runtime
    standard_id = request.path_params["standard_id"]
    version = request.path_params["version"]
    try:
        # Checked before the database sees them: a NUL (`%00`) in a text parameter is an
        # error on PostgreSQL, and no malformed id or version can name a schema anyway.
        check_standard_id(standard_id)
        parse_version(version)
    except StandardsError as exc:
        return JSONResponse({"error": exc.code.value, "message": exc.message}, 400)
    async with runtime.session_factory() as session:
        try:
            row = await service.get_version(
                session=session, standard_id=standard_id, version=version
            )
        except StandardsError as exc:
            return JSONResponse({"error": exc.code.value, "message": exc.message}, 404)
    if row.state == VersionState.DRAFT.value:
        return JSONResponse(
            {"error": "NOT_PUBLISHED", "message": f"{row.ref} is a draft"}, status_code=404
        )
    headers = {
        # Published content never changes, so the hash is a strong validator.
        "ETag": f'"{row.content_hash}"',
        "Cache-Control": "public, max-age=300",
        "X-Standard-State": row.state,
    }
    if caching.none_match(request.headers.get("if-none-match"), headers["ETag"]):
        return caching.not_modified(headers)
    body = service.public_schema(version=row, base_url=runtime.settings.issuer)
    return Response(canonical_json(body), media_type=SCHEMA_MEDIA_TYPE, headers=headers)


ROUTES = [Route("/standards/{standard_id}/{version}", raw_schema, methods=["GET"])]
