"""An external identity provider can be trusted by its issuer and JWKS URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette

from hub.app import create_app
from hub.auth.keys import generate_key
from hub.config import ExternalIssuer, Settings

EXTERNAL_ISSUER = "https://idp.zone.test"


class _JWKSHandler(BaseHTTPRequestHandler):
    document: bytes = b""

    def do_GET(self) -> None:
        if self.path != "/jwks.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def idp_key() -> ECKey:
    key: ECKey = generate_key("ES256")  # type: ignore[assignment]
    return key


@pytest.fixture
def jwks_url(idp_key: ECKey) -> Iterator[str]:
    """A second key set served over real HTTP on the loopback interface."""
    handler = type(
        "Handler",
        (_JWKSHandler,),
        {"document": json.dumps({"keys": [idp_key.as_dict(private=False)]}).encode()},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def federated_http(settings: Settings, jwks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    trusting = Settings(
        database_url=settings.database_url,
        issuer=settings.issuer,
        env="test",
        external=ExternalIssuer(issuer=EXTERNAL_ISSUER, jwks_url=jwks_url, audience="hub"),
    )
    application: Starlette = create_app(trusting)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client:
            yield client


def _idp_token(key: ECKey, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": EXTERNAL_ISSUER,
        "aud": "hub",
        "sub": "svc-forex-portal",
        "client_id": "svc-forex-portal",
        "client_name": "Forex portal",
        "iat": now,
        "exp": now + 300,
        "jti": "ext-1",
        "scope": "forex:read openid",
    }
    claims.update(overrides)
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, claims, key)


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": "{ me { clientId name scopes issuer } }"},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_token_from_the_external_idp_is_accepted(
    federated_http: httpx.AsyncClient, idp_key: ECKey
) -> None:
    response = await _me(federated_http, _idp_token(idp_key))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {
        "clientId": "svc-forex-portal",
        "name": "Forex portal",
        "scopes": ["forex:read"],  # scopes the hub does not know grant nothing
        "issuer": EXTERNAL_ISSUER,
    }


async def test_external_token_for_another_audience_is_refused(
    federated_http: httpx.AsyncClient, idp_key: ECKey
) -> None:
    response = await _me(federated_http, _idp_token(idp_key, aud="other"))
    assert response.status_code == 401


async def test_token_claiming_the_external_issuer_but_signed_elsewhere_is_refused(
    federated_http: httpx.AsyncClient,
) -> None:
    impostor: ECKey = generate_key("ES256")  # type: ignore[assignment]
    response = await _me(federated_http, _idp_token(impostor))
    assert response.status_code == 401


async def test_external_issuer_is_not_trusted_unless_configured(
    http: httpx.AsyncClient, idp_key: ECKey
) -> None:
    response = await _me(http, _idp_token(idp_key))
    assert response.status_code == 401
    assert "issuer" in response.json()["errors"][0]["message"]
