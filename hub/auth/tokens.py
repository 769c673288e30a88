"""Bearer-token checking for the resource side (/graphql): the hub's own and an external IdP."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode

from hub.auth.keys import KeyStore
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.config import ExternalIssuer, Settings
from hub.observability.tracing import inject_headers

# The signature algorithms accepted on incoming tokens; "none" and HMAC are never accepted,
# which also closes the classic "HS256 with the public key as secret" confusion.
ACCEPTED_ALGS = ("ES256", "RS256")
_EXTERNAL_JWKS_MIN_REFRESH_SECONDS = 30.0


class TokenRejected(Exception):
    """The bearer token is missing or invalid; carries the RFC 6750 error and description."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description

    def www_authenticate(self, realm: str = "hub") -> str:
        """The WWW-Authenticate header value for a 401 response."""
        if self.error == "missing_token":
            return f'Bearer realm="{realm}"'
        desc = self.description.replace('"', "'")
        return f'Bearer realm="{realm}", error="{self.error}", error_description="{desc}"'


class _Validator(JWTBearerTokenValidator):  # type: ignore[misc]
    def __init__(self, *, issuer: str, audience: str, keys: KeySet):
        super().__init__(issuer=issuer, resource_server=audience, realm="hub")
        self._keys = keys

    def get_jwks(self) -> KeySet:
        return self._keys


def _unverified_header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("invalid_token", "the token is not a signed JWT")
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode()))
        claims = json.loads(urlsafe_b64decode(parts[1].encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenRejected("invalid_token", "the token is not a readable JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("invalid_token", "the token is not a readable JWT")
    return header, claims


@dataclass
class ExternalKeys:
    """JWKS of an external identity provider, fetched and cached; refreshed on unknown kid."""

    issuer: ExternalIssuer
    _keys: KeySet | None = None
    _kids: frozenset[str] = frozenset()
    _fetched_at: float = field(default=-1e9)

    async def keyset(self, kid: str | None) -> KeySet:
        """The provider's keys, refetched when the kid is unknown (at most every 30 s)."""
        stale = time.monotonic() - self._fetched_at >= _EXTERNAL_JWKS_MIN_REFRESH_SECONDS
        if self._keys is None or (kid not in self._kids and stale):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.issuer.jwks_url, headers=inject_headers({}))
                response.raise_for_status()
                document = response.json()
            self._keys = KeySet.import_key_set(document)
            self._kids = frozenset(k.get("kid", "") for k in document.get("keys", []))
            self._fetched_at = time.monotonic()
        return self._keys


@dataclass
class TokenVerifier:
    """Turns an Authorization header into a Principal or a TokenRejected."""

    settings: Settings
    keys: KeyStore
    external: ExternalKeys | None = None

    @classmethod
    def create(cls, *, settings: Settings, keys: KeyStore) -> TokenVerifier:
        """A verifier for the hub's own tokens and, if configured, an external IdP's."""
        external = ExternalKeys(settings.external) if settings.external else None
        return cls(settings=settings, keys=keys, external=external)

    async def verify_header(self, authorization: str | None) -> Principal:
        """Checks a 'Bearer …' header value and returns the caller."""
        if not authorization:
            raise TokenRejected("missing_token", "no bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("invalid_request", "use 'Authorization: Bearer <token>'")
        return await self.verify(token.strip())

    async def verify(self, token: str) -> Principal:
        """Checks signature, issuer, audience, expiry and not-before of a JWT access token."""
        header, claims = _unverified_header_and_claims(token)
        alg = header.get("alg")
        if alg not in ACCEPTED_ALGS:
            raise TokenRejected("invalid_token", f"signature algorithm {alg!r} is not accepted")
        issuer = claims.get("iss")
        kid = header.get("kid")
        if issuer == self.settings.issuer:
            if not self.keys.knows(kid):
                await self.keys.reload_if_stale()
            keyset, audience = self.keys.public_keyset(), self.settings.audience
        elif self.external is not None and issuer == self.external.issuer.issuer:
            try:
                keyset = await self.external.keyset(kid)
            except (httpx.HTTPError, ValueError) as exc:
                raise TokenRejected(
                    "invalid_token", "the identity provider's keys are unavailable"
                ) from exc
            audience = self.external.issuer.audience
        else:
            raise TokenRejected("invalid_token", "the token's issuer is not trusted")
        validator = _Validator(issuer=issuer, audience=audience, keys=keyset)
        try:
            checked = validator.authenticate_token(token)
            validator.validate_token(checked, scopes=None, request=None)
        except (InvalidTokenError, JoseError, ValueError) as exc:
            raise TokenRejected("invalid_token", _describe(exc)) from exc
        return _principal(dict(checked), issuer=issuer)


def _describe(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    text = getattr(cause, "description", None) or str(cause) or type(cause).__name__
    return f"the token is invalid: {text}"


def _principal(claims: dict[str, Any], *, issuer: str) -> Principal:
    scopes: set[Scope] = set()
    raw = claims.get("scope") or ""
    for name in raw.split() if isinstance(raw, str) else raw:
        try:
            scopes.add(Scope(name))
        except ValueError:
            continue  # scopes the hub does not know grant nothing here
    client_id = str(claims.get("client_id") or claims.get("sub"))
    return Principal(
        client_id=client_id,
        name=str(claims.get("client_name") or client_id),
        scopes=frozenset(scopes),
        enterprise_code=claims.get("enterprise_code"),
        issuer=issuer,
        token_id=claims.get("jti"),
    )
