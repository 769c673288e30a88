"""The OAuth2 authorization server: client credentials (RFC 9068 JWTs), RFC 7009 revocation
and RFC 7662 introspection, all by authlib.

authlib's server is synchronous, so the HTTP routes load what it will ask for (the client
row, the presented token and its revocation state) beforehand and store what it decided
(a revocation) afterwards. Every failed client authentication answers the same
`invalid_client` (unknown id, wrong secret, disabled client): unknown and disabled clients
are checked against a dummy secret hash, so no answer and no timing tells them apart.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet

from hub.auth.clients import hash_secret, secret_matches
from hub.auth.keys import KeyStore
from hub.auth.models import Client
from hub.auth.scopes import ALL_SCOPES
from hub.auth.tokens import CheckedToken
from hub.config import Settings

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# The endpoints a client authenticates at (authlib's names).
ENDPOINTS = ("token", RevocationEndpoint.ENDPOINT_NAME, IntrospectionEndpoint.ENDPOINT_NAME)
INVALID_CLIENT_DESCRIPTION = "client authentication failed"
# Unknown and disabled clients are compared against this, so that they cost what a known
# client with a wrong secret costs.
_DUMMY_SECRET_HASH = hash_secret(secrets.token_urlsafe(32))


@dataclass(frozen=True)
class OAuthClient(ClientMixin):
    """A client row as authlib's ClientMixin sees it; `row` None: no usable client."""

    row: Client | None
    claimed_id: str

    @classmethod
    def of(cls, row: Client | None, claimed_id: str) -> OAuthClient:
        """The client a request claims: unknown and disabled ones authenticate as nobody."""
        usable = row is not None and row.client_id == claimed_id and row.disabled_at is None
        return cls(row if usable else None, claimed_id)

    def get_client_id(self) -> str:
        return self.claimed_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # No scope asked: the token carries every scope the client is allowed.
        allowed = self.row.scopes.split() if self.row is not None else []
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if self.row is None:
            secret_matches(secret=client_secret, secret_hash=_DUMMY_SECRET_HASH)
            return False
        return secret_matches(secret=client_secret, secret_hash=self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint in ENDPOINTS and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class HubClientCredentialsGrant(ClientCredentialsGrant):
    """Client credentials, refusing scopes the client is not allowed instead of trimming."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        requested = (self.request.payload.scope or "").split()
        row = self.request.client.row
        allowed = set(row.scopes.split()) if row is not None else set()
        refused = [s for s in requested if s not in allowed]
        if refused:
            raise InvalidScopeError(
                description=f"scope not allowed for this client: {' '.join(refused)}"
            )


class _FormRequest(OAuth2Request):
    def __init__(self, *, method: str, uri: str, headers: Mapping[str, str], form: dict[str, str]):
        super().__init__(method=method, uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True)
class TokenRequest:
    """What the token endpoint received, already read from the HTTP request."""

    method: str
    uri: str
    headers: Mapping[str, str]  # case-insensitive (starlette Headers)
    form: dict[str, str]


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint answers."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class _TokenGenerator(JWTBearerTokenGenerator):
    def __init__(self, *, settings: Settings, keys: KeyStore):
        super().__init__(
            issuer=settings.issuer,
            alg=settings.signing_alg,
            expires_generator=settings.token_ttl_seconds,
        )
        self._settings = settings
        self._keys = keys

    def get_jwks(self) -> Any:
        # A one-key set makes joserfc write the key's `kid` into the header, which is how
        # verifiers pick the right key after a rotation.
        return KeySet([self._keys.signing_key()])

    def get_audiences(self, client: OAuthClient, user: Any, scope: str) -> str:
        return self._settings.audience

    def get_jti(self, client: OAuthClient, grant_type: str, user: Any, scope: str) -> str:
        return secrets.token_urlsafe(16)

    def get_extra_claims(
        self, client: OAuthClient, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        assert client.row is not None  # only an authenticated client gets a token
        claims: dict[str, Any] = {"client_name": client.row.name}
        if client.row.enterprise_code:
            claims["enterprise_code"] = client.row.enterprise_code
        return claims


@dataclass(frozen=True)
class PresentedToken(TokenMixin):
    """A hub access token sent to /oauth/revoke or /oauth/introspect, already checked."""

    raw: str
    checked: CheckedToken
    live: bool  # not revoked, its client not disabled

    def check_client(self, client: OAuthClient) -> bool:
        return bool(client.get_client_id() == self.checked.client_id)

    def get_scope(self) -> str:
        scope = self.checked.claims.get("scope") or ""
        return scope if isinstance(scope, str) else " ".join(scope)

    def get_expires_in(self) -> int:
        return max(0, int(self.checked.claims["exp"] - datetime.now(UTC).timestamp()))

    def is_expired(self) -> bool:
        return bool(self.checked.expires_at <= datetime.now(UTC))

    def is_revoked(self) -> bool:
        return not self.live


class _TokenEndpoints:
    """What revocation and introspection share: both auth methods, the preloaded token."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    # Refresh tokens are never issued; the hint is still accepted as RFC 7009 allows.
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")
    server: _Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        presented = self.server.presented
        return presented if presented is not None and presented.raw == token_string else None


class _Revocation(_TokenEndpoints, RevocationEndpoint):
    def revoke_token(self, token: PresentedToken, request: OAuth2Request) -> None:
        # Stored by the caller after authlib has answered (authlib is synchronous).
        if not token.is_expired():
            self.server.revoked.append(token)


class _Introspection(_TokenEndpoints, IntrospectionEndpoint):
    def check_permission(
        self, token: PresentedToken, client: OAuthClient, request: OAuth2Request
    ) -> bool:
        # A client introspects only its own tokens; anyone else's are "active": false.
        return token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        claims = token.checked.claims
        body: dict[str, Any] = {
            "active": True,
            "token_type": "Bearer",
            **{
                name: claims[name]
                for name in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")
                if name in claims
            },
        }
        if claims.get("enterprise_code"):
            body["enterprise_code"] = claims["enterprise_code"]
        return body


class _Server(AuthorizationServer):
    """authlib's server is synchronous; the client row and token are loaded beforehand."""

    def __init__(
        self,
        *,
        client: OAuthClient | None,
        generator: _TokenGenerator | None = None,
        presented: PresentedToken | None = None,
    ):
        super().__init__(scopes_supported=list(ALL_SCOPES))
        self._client = client
        self.presented = presented
        self.revoked: list[PresentedToken] = []
        if generator is not None:
            self.register_grant(HubClientCredentialsGrant)
            self.register_token_generator("default", generator)
        self.register_endpoint(_Revocation)
        self.register_endpoint(_Introspection)

    def query_client(self, client_id: str) -> OAuthClient:
        if self._client is None or self._client.get_client_id() != client_id:
            # Never None: authlib words "does not exist" differently from "wrong secret".
            return OAuthClient(None, client_id)
        return self._client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Self-contained JWTs: nothing to store; see hub.auth.revocation for revoking.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: TokenRequest) -> OAuth2Request:
        return _FormRequest(
            method=request.method, uri=request.uri, headers=request.headers, form=request.form
        )

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> TokenResponse:
        if isinstance(error, InvalidClientError):
            # One answer for every failed client authentication, whatever authlib's reason.
            error = InvalidClientError(status_code=401, description=INVALID_CLIENT_DESCRIPTION)
        return super().handle_error_response(request, error)

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> TokenResponse:
        return TokenResponse(status=status, body=body, headers=list(headers))


def invalid_client() -> TokenResponse:
    """The one answer to a failed client authentication (RFC 6749 section 5.2)."""
    error = InvalidClientError(status_code=401, description=INVALID_CLIENT_DESCRIPTION)
    status, body, headers = error()
    return TokenResponse(status=status, body=body, headers=list(headers))


def basic_credentials_readable(headers: Mapping[str, str]) -> bool:
    """False when an `Authorization: Basic` header is empty or not base64 of UTF-8 text.

    authlib decodes these itself and fails with a 500 on what is not (UnicodeDecodeError,
    or an unpacking error on "Basic " with nothing after it), so they never reach it."""
    auth = headers.get("authorization", "")
    scheme, _, credentials = auth.strip().partition(" ")
    if scheme.lower() != "basic":
        return True
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return bool(decoded)


def requested_client_id(request: TokenRequest) -> str | None:
    """The client id the request claims, from HTTP Basic or the form."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, ValueError):
            return None
        client_id, _, _ = decoded.partition(":")
        return unquote(client_id) or None
    return request.form.get("client_id") or None


def issue_token(
    *, request: TokenRequest, client: Client | None, settings: Settings, keys: KeyStore
) -> TokenResponse:
    """Runs authlib's token endpoint for one request whose client row is already loaded."""
    claimed = requested_client_id(request) or ""
    server = _Server(
        client=OAuthClient.of(client, claimed),
        generator=_TokenGenerator(settings=settings, keys=keys),
    )
    return server.create_token_response(request)


def revoke(
    *, request: TokenRequest, client: Client | None, presented: PresentedToken | None
) -> tuple[TokenResponse, list[PresentedToken]]:
    """Runs authlib's RFC 7009 endpoint: the answer, and the tokens the caller must revoke."""
    claimed = requested_client_id(request) or ""
    server = _Server(client=OAuthClient.of(client, claimed), presented=presented)
    response: TokenResponse = server.create_endpoint_response("revocation", request)
    return response, (server.revoked if response.status == 200 else [])


def introspect(
    *, request: TokenRequest, client: Client | None, presented: PresentedToken | None
) -> TokenResponse:
    """Runs authlib's RFC 7662 endpoint for one request."""
    claimed = requested_client_id(request) or ""
    server = _Server(client=OAuthClient.of(client, claimed), presented=presented)
    response: TokenResponse = server.create_endpoint_response("introspection", request)
    return response
