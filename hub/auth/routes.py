"""HTTP endpoints of the authorization server: token, revocation, introspection, JWKS, metadata.

The three endpoints a client authenticates at share one front door (`_read`): form body
only, https when required (as the trusted proxies report it), readable Basic credentials,
and a rate limit per remote address and per claimed client id, before any secret is hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.auth import clients, revocation
from hub.auth.models import Client
from hub.auth.scopes import ALL_SCOPES
from hub.auth.server import (
    AUTH_METHODS,
    PresentedToken,
    TokenRequest,
    TokenResponse,
    basic_credentials_readable,
    introspect,
    invalid_client,
    issue_token,
    requested_client_id,
    revoke,
)
from hub.auth.tokens import TokenRejected
from hub.db import unit_of_work
from hub.http import rate_limit
from hub.http.errors import error_body
from hub.observability.metrics import metrics
from hub.runtime import Runtime

_MAX_TOKEN_BODY = 16 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=_NO_STORE
    )


def _respond(result: TokenResponse) -> Response:
    headers = dict(result.headers)
    headers.update(_NO_STORE)
    headers.pop("Content-Type", None)
    return JSONResponse(result.body, status_code=result.status, headers=headers)


@dataclass(frozen=True)
class _Limits:
    """The OAuth endpoints' rate limits: per remote address and per claimed client id."""

    by_address: rate_limit.RateLimiter | None
    by_client: rate_limit.RateLimiter | None

    @classmethod
    def of(cls, runtime: Runtime) -> _Limits:
        settings, storage = runtime.settings, runtime.rate_limit_storage
        address = client = None
        if settings.token_address_rate_limit_per_second > 0:
            address = rate_limit.RateLimiter(
                storage=storage,
                rate=settings.token_address_rate_limit_per_second,
                burst=settings.token_address_rate_limit_burst,
                namespace="oauth-address",
            )
        if settings.token_rate_limit_per_second > 0:
            client = rate_limit.RateLimiter(
                storage=storage,
                rate=settings.token_rate_limit_per_second,
                burst=settings.token_rate_limit_burst,
                namespace="oauth-client",
            )
        return cls(address, client)

    async def wait(self, *, address: str, client_id: str | None) -> float:
        """Seconds until the request may be served; 0.0 when it may be now."""
        if self.by_address is not None:
            wait = await self.by_address.acquire(address)
            if wait:
                return wait
        if self.by_client is not None and client_id:
            return await self.by_client.acquire(client_id)
        return 0.0


def _limits(request: Request) -> _Limits:
    # Built once per app (the limiters keep no state of their own beyond the storage).
    state = request.app.state
    if getattr(state, "oauth_limits", None) is None:
        state.oauth_limits = _Limits.of(state.runtime)
    limits: _Limits = state.oauth_limits
    return limits


async def _read(request: Request) -> TokenRequest | Response:
    """The form of a client-authenticated OAuth request, or the refusal to send instead."""
    runtime: Runtime = request.app.state.runtime
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return _oauth_error(
            400, "invalid_request", "send the request as application/x-www-form-urlencoded"
        )
    # The scheme is the connection's, or what a trusted proxy reports (hub/http/proxies.py).
    if runtime.settings.require_https and request.url.scheme != "https":
        return _oauth_error(400, "invalid_request", "this endpoint requires https")
    body = await request.body()
    if len(body) > _MAX_TOKEN_BODY:
        return _oauth_error(413, "invalid_request", "request body too large")
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the body is not UTF-8")
    token_request = TokenRequest(
        method=request.method,
        # authlib refuses plain-http URIs outside localhost by itself; the transport policy
        # is decided above from configuration (TLS usually ends at a proxy in front).
        uri=str(request.url.replace(scheme="https")),
        headers=request.headers,
        form=form,
    )
    address = request.client.host if request.client else "unknown"
    readable = basic_credentials_readable(request.headers)
    client_id = requested_client_id(token_request) if readable else None
    wait = await _limits(request).wait(address=address, client_id=client_id)
    if wait:
        metrics.rate_limited.inc()
        return JSONResponse(
            error_body(
                path=request.url.path,
                status=429,
                code=rate_limit.CODE,
                message="too many requests; retry after the Retry-After delay",
            ),
            status_code=429,
            headers={**_NO_STORE, "Retry-After": rate_limit.retry_after_header(wait)},
        )
    if not readable:
        # Not base64, or not UTF-8 inside: as failed an authentication as a wrong secret.
        return _respond(invalid_client())
    return token_request


async def _client_row(runtime: Runtime, request: TokenRequest) -> Client | None:
    client_id = requested_client_id(request)
    if not client_id:
        return None
    async with runtime.session_factory() as session:
        return await clients.get(session=session, client_id=client_id)


async def _presented(runtime: Runtime, raw: str | None) -> PresentedToken | None:
    """The token sent for revocation or introspection, if it is a valid token of this hub."""
    if not raw:
        return None
    try:
        checked = await runtime.verifier.check(raw)
    except TokenRejected:
        return None  # not a token of ours (or expired): nothing to revoke, not active
    if checked.external:
        return None  # the identity provider's to revoke and describe, not the hub's
    async with runtime.session_factory() as session:
        state = await revocation.state(
            session=session,
            client_id=checked.client_id,
            jti=checked.jti,
            issued_at=checked.issued_at,
        )
    return PresentedToken(raw=raw, checked=checked, live=state.live)


async def token(request: Request) -> Response:
    """POST /oauth/token: the client-credentials grant."""
    runtime: Runtime = request.app.state.runtime
    token_request = await _read(request)
    if isinstance(token_request, Response):
        return token_request
    row = await _client_row(runtime, token_request)
    return _respond(
        issue_token(request=token_request, client=row, settings=runtime.settings, keys=runtime.keys)
    )


async def revoke_endpoint(request: Request) -> Response:
    """POST /oauth/revoke (RFC 7009): a client revokes one of its own access tokens."""
    runtime: Runtime = request.app.state.runtime
    token_request = await _read(request)
    if isinstance(token_request, Response):
        return token_request
    row = await _client_row(runtime, token_request)
    presented = await _presented(runtime, token_request.form.get("token"))
    result, revoked = revoke(request=token_request, client=row, presented=presented)
    if revoked:
        async with unit_of_work(runtime.session_factory) as session:
            for item in revoked:
                assert item.checked.jti is not None  # the hub's tokens always carry one
                await revocation.revoke(
                    session=session,
                    jti=item.checked.jti,
                    client_id=item.checked.client_id,
                    expires_at=item.checked.expires_at,
                )
    return _respond(result)


async def introspect_endpoint(request: Request) -> Response:
    """POST /oauth/introspect (RFC 7662): a client asks whether one of its tokens is active."""
    runtime: Runtime = request.app.state.runtime
    token_request = await _read(request)
    if isinstance(token_request, Response):
        return token_request
    row = await _client_row(runtime, token_request)
    presented = await _presented(runtime, token_request.form.get("token"))
    return _respond(introspect(request=token_request, client=row, presented=presented))


async def jwks(request: Request) -> Response:
    """GET /.well-known/jwks.json: the public keys that verify the hub's tokens."""
    runtime: Runtime = request.app.state.runtime
    await runtime.keys.reload_if_stale()
    body = runtime.keys.jwks()
    if runtime.log is not None:
        await runtime.log.reload_if_stale(session_factory=runtime.session_factory)
        # The log's Ed25519 key verifies checkpoints (README, "Verifiable log"), not tokens.
        log_keys: list[dict[str, object]] = [dict(k) for k in runtime.log.jwks_keys()]
        body = {"keys": [*body["keys"], *log_keys]}
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
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "scopes_supported": list(ALL_SCOPES),
            "response_types_supported": [],
            "service_documentation": f"{issuer}/graphql",
        }
    )


ROUTES = [
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke_endpoint, methods=["POST"]),
    Route("/oauth/introspect", introspect_endpoint, methods=["POST"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
]
