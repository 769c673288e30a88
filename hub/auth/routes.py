"""HTTP endpoints of the authorization server: token, JWKS, RFC 8414 metadata."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth import clients
from hub.auth.scopes import ALL_SCOPES
from hub.auth.server import AUTH_METHODS, TokenRequest, issue_token, requested_client_id
from hub.runtime import Runtime

_MAX_TOKEN_BODY = 16 * 1024


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def token(request: Request) -> Response:
    """POST /oauth/token: the client-credentials grant."""
    runtime: Runtime = request.app.state.runtime
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(
            400, "invalid_request", "send the request as application/x-www-form-urlencoded"
        )
    body = await request.body()
    if len(body) > _MAX_TOKEN_BODY:
        return _oauth_error(413, "invalid_request", "request body too large")
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    if runtime.settings.require_https and request.url.scheme != "https":
        return _oauth_error(400, "invalid_request", "the token endpoint requires https")
    token_request = TokenRequest(
        method=request.method,
        # authlib refuses plain-http URIs outside localhost by itself; the transport policy
        # is decided above from configuration (TLS usually ends at a proxy in front).
        uri=str(request.url.replace(scheme="https")),
        headers=request.headers,
        form=form,
    )
    client_id = requested_client_id(token_request)
    row = None
    if client_id:
        async with runtime.session_factory() as session:
            row = await clients.get(session=session, client_id=client_id)
    result = issue_token(
        request=token_request, client=row, settings=runtime.settings, keys=runtime.keys
    )
    return JSONResponse(result.body, status_code=result.status, headers=dict(result.headers))


async def jwks(request: Request) -> Response:
    """GET /.well-known/jwks.json: the public keys that verify the hub's tokens."""
    runtime: Runtime = request.app.state.runtime
    await runtime.keys.reload_if_stale()
    body = runtime.keys.jwks()
    if runtime.log is not None:
        # The log's Ed25519 key verifies checkpoints (README, "Verifiable log"), not tokens.
        body = {"keys": [*body["keys"], *runtime.log.jwks_keys()]}
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})


async def metadata(request: Request) -> Response:
    """GET /.well-known/oauth-authorization-server: RFC 8414 server metadata."""
    runtime: Runtime = request.app.state.runtime
    issuer = runtime.settings.issuer
    return JSONResponse(
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "token_endpoint_auth_signing_alg_values_supported": [runtime.settings.signing_alg],
            "scopes_supported": list(ALL_SCOPES),
            "response_types_supported": [],
            "service_documentation": f"{issuer}/graphql",
        }
    )


ROUTES = [
    Route("/oauth/token", token, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
]
