"""The OAuth2 authorization server: client-credentials grant issuing RFC 9068 JWTs."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet

from hub.auth.clients import secret_matches
from hub.auth.keys import KeyStore
from hub.auth.models import Client
from hub.auth.scopes import ALL_SCOPES
from hub.config import Settings

AUTH_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class OAuthClient(ClientMixin):  # type: ignore[misc]
    """A client row as authlib's ClientMixin sees it."""

    row: Client

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # No scope asked: the token carries every scope the client is allowed.
        allowed = self.row.scopes.split()
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(secret=client_secret, secret_hash=self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class HubClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    """Client credentials, refusing scopes the client is not allowed instead of trimming."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        requested = (self.request.payload.scope or "").split()
        allowed = set(self.request.client.row.scopes.split())
        refused = [s for s in requested if s not in allowed]
        if refused:
            raise InvalidScopeError(
                description=f"scope not allowed for this client: {' '.join(refused)}"
            )


class _FormRequest(OAuth2Request):  # type: ignore[misc]
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


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
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
        claims: dict[str, Any] = {"client_name": client.row.name}
        if client.row.enterprise_code:
            claims["enterprise_code"] = client.row.enterprise_code
        return claims


class _Server(AuthorizationServer):  # type: ignore[misc]
    """authlib's server is synchronous; the client row is loaded beforehand."""

    def __init__(self, *, client: OAuthClient | None, generator: _TokenGenerator):
        super().__init__(scopes_supported=list(ALL_SCOPES))
        self._client = client
        self.register_grant(HubClientCredentialsGrant)
        self.register_token_generator("default", generator)

    def query_client(self, client_id: str) -> OAuthClient | None:
        if self._client is None or self._client.get_client_id() != client_id:
            return None
        return self._client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Self-contained JWTs: nothing to store; revocation is by disabling the client.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: TokenRequest) -> OAuth2Request:
        return _FormRequest(
            method=request.method, uri=request.uri, headers=request.headers, form=request.form
        )

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> TokenResponse:
        return TokenResponse(status=status, body=body, headers=list(headers))


def requested_client_id(request: TokenRequest) -> str | None:
    """The client id the request claims, from HTTP Basic or the form."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, _ = decoded.partition(":")
        return unquote(client_id) or None
    return request.form.get("client_id") or None


def issue_token(
    *, request: TokenRequest, client: Client | None, settings: Settings, keys: KeyStore
) -> TokenResponse:
    """Runs authlib's token endpoint for one request whose client row is already loaded."""
    usable = OAuthClient(client) if client is not None and client.disabled_at is None else None
    server = _Server(client=usable, generator=_TokenGenerator(settings=settings, keys=keys))
    return server.create_token_response(request)
