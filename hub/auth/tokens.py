"""Bearer-token checking for the resource side (/graphql): the hub's own and an external IdP."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode

from hub.auth import revocation
from hub.auth.clients import CLIENT_ID_PREFIX
from hub.auth.keys import KeyStore
from hub.auth.principal import Principal
from hub.auth.scopes import Scope
from hub.config import ExternalIssuer, Settings
from hub.observability.tracing import inject_headers

log = logging.getLogger("hub.auth")

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


class _Validator(JWTBearerTokenValidator):
    def __init__(self, *, issuer: str, audience: str, keys: KeySet):
        super().__init__(issuer=issuer, resource_server=audience, realm="hub")
        self._keys = keys

    def get_jwks(self) -> KeySet:
        return self._keys


_ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")  # RFC 9068 section 2.1
_NUMERIC_CLAIMS = ("exp", "iat", "nbf")
_TEXT_CLAIMS = ("client_id", "sub", "client_name", "enterprise_code", "jti", "iss")


def _unverified_header_and_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JOSE header and claims, refused unless every field the hub reads has its type.

    An attacker controls every byte here, so each field is checked before any library code
    sees it: a `kid` that is a list, a `typ` that is a number or an `exp` that is a string
    would otherwise surface as a TypeError (a 500) deep inside the JOSE library.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("invalid_token", "the token is not a signed JWT")
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode("ascii")))
        claims = json.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise TokenRejected("invalid_token", "the token is not a readable JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("invalid_token", "the token is not a readable JWT")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ACCEPTED_ALGS:
        shown = alg if isinstance(alg, str) else type(alg).__name__
        raise TokenRejected("invalid_token", f"signature algorithm {shown!r} is not accepted")
    if "kid" in header and not isinstance(header["kid"], str):
        raise TokenRejected("invalid_token", "the token's key id (kid) must be a string")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _ACCESS_TOKEN_TYPES:
        raise TokenRejected("invalid_token", "the token is not an access token (typ at+jwt)")
    if "crit" in header:
        # No JOSE extension is understood here, so a critical one must be refused.
        raise TokenRejected("invalid_token", "the token names critical header extensions")
    for name in _NUMERIC_CLAIMS:
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenRejected("invalid_token", f"the token's {name!r} claim must be a number")
    for name in _TEXT_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise TokenRejected("invalid_token", f"the token's {name!r} claim must be a string")
    scope = claims.get("scope")
    words = scope if isinstance(scope, list) else [scope]
    if scope is not None and not all(isinstance(word, str) for word in words):
        raise TokenRejected("invalid_token", "the token's 'scope' claim must be a string")
    return header, claims


@dataclass(frozen=True)
class CheckedToken:
    """A token whose signature and claims hold: who issued it and what it says."""

    claims: dict[str, Any]
    issuer: str
    external: bool

    @property
    def client_id(self) -> str:
        """The client the token was issued to."""
        return str(self.claims.get("client_id") or self.claims.get("sub"))

    @property
    def jti(self) -> str | None:
        """The token's unique id."""
        jti = self.claims.get("jti")
        return jti if isinstance(jti, str) else None

    @property
    def expires_at(self) -> datetime:
        """When the token expires."""
        return datetime.fromtimestamp(self.claims["exp"], UTC)

    @property
    def issued_at(self) -> datetime:
        """When the token was issued (whole seconds)."""
        return datetime.fromtimestamp(self.claims["iat"], UTC)


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
        """Checks a JWT access token and, for the hub's own, that it was not revoked."""
        checked = await self.check(token)
        if not checked.external:
            async with self.keys.session_factory() as session:
                state = await revocation.state(
                    session=session,
                    client_id=checked.client_id,
                    jti=checked.jti,
                    issued_at=checked.issued_at,
                )
            if not state.live:
                raise TokenRejected("invalid_token", state.reason)
        return _principal(checked)

    async def check(self, token: str) -> CheckedToken:
        """Checks signature, issuer, audience, expiry and not-before (not revocation)."""
        header, claims = _unverified_header_and_claims(token)
        issuer = claims.get("iss")
        kid = header.get("kid")
        external = False
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
            audience, external = self.external.issuer.audience, True
        else:
            raise TokenRejected("invalid_token", "the token's issuer is not trusted")
        assert isinstance(issuer, str)  # checked by _unverified_header_and_claims
        validator = _Validator(issuer=issuer, audience=audience, keys=keyset)
        try:
            verified = validator.authenticate_token(token)
            validator.validate_token(verified, scopes=None, request=None)
        except (InvalidTokenError, JoseError, ValueError) as exc:
            raise TokenRejected("invalid_token", _describe(exc)) from exc
        except (TypeError, KeyError, AttributeError) as exc:
            # Input the checks above let through but the JOSE library cannot handle: still
            # the caller's malformed token, never a 500.
            log.info("token refused by the JOSE library: %r", exc)
            raise TokenRejected("invalid_token", "the token is not a readable JWT") from exc
        result = CheckedToken(claims=dict(verified), issuer=issuer, external=external)
        if external and result.client_id.startswith(CLIENT_ID_PREFIX):
            raise TokenRejected(
                "invalid_token",
                f"client ids beginning with {CLIENT_ID_PREFIX!r} belong to this hub's own "
                "clients; the identity provider may not issue them",
            )
        return result


def _describe(exc: Exception) -> str:
    cause = exc.__cause__ or exc
    text = getattr(cause, "description", None) or str(cause) or type(cause).__name__
    return f"the token is invalid: {text}"


def _principal(token: CheckedToken) -> Principal:
    claims = token.claims
    scopes: set[Scope] = set()
    raw = claims.get("scope") or ""
    for name in raw.split() if isinstance(raw, str) else raw:
        try:
            scopes.add(Scope(name))
        except ValueError:
            continue  # scopes the hub does not know grant nothing here
    return Principal(
        client_id=token.client_id,
        name=str(claims.get("client_name") or token.client_id),
        scopes=frozenset(scopes),
        enterprise_code=claims.get("enterprise_code"),
        issuer=token.issuer,
        token_id=token.jti,
        external=token.external,
    )
