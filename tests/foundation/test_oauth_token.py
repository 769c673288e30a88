"""The token endpoint: client credentials via basic and post auth, and every refusal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette

from hub.auth import clients
from hub.db import unit_of_work
from tests.support import TEST_ISSUER, RegisteredClient, jwt_claims, jwt_header

Register = Callable[..., Awaitable[RegisteredClient]]


async def test_basic_auth_issues_an_rfc9068_jwt_with_all_allowed_scopes(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="customs:read pii:read", name="Customs")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "customs:read pii:read"
    header, claims = jwt_header(body["access_token"]), jwt_claims(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == TEST_ISSUER
    assert claims["aud"] == "hub"
    assert claims["sub"] == claims["client_id"] == client.client_id
    assert claims["scope"] == "customs:read pii:read"
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 3600
    assert claims["jti"]


async def test_post_auth_issues_a_token_for_a_requested_subset_of_scopes(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="customs:read pii:read")
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": "customs:read",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    assert jwt_claims(response.json()["access_token"])["scope"] == "customs:read"


async def test_enterprise_clients_tokens_carry_the_bound_enterprise(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="declare", enterprise="91320302MA1XYA0001")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert jwt_claims(response.json()["access_token"])["enterprise_code"] == "91320302MA1XYA0001"


async def test_wrong_secret_is_refused_as_invalid_client(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="tax:read")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret + "x"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "access_token" not in response.json()


async def test_unknown_client_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("hub_nobody", "secret")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_disabled_client_is_refused(
    http: httpx.AsyncClient, register_client: Register, app: Starlette
) -> None:
    client = await register_client(scopes="tax:read")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await clients.disable(session=session, client_id=client.client_id)
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_scope_not_allowed_for_the_client_is_refused(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="tax:read")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "tax:read pii:read"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "pii:read" in response.json()["error_description"]


async def test_unknown_scope_is_refused(http: httpx.AsyncClient, register_client: Register) -> None:
    client = await register_client(scopes="tax:read")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "root"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_other_grant_types_are_refused(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="tax:read")
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "u", "password": "p"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_json_body_is_refused_with_invalid_request(http: httpx.AsyncClient) -> None:
    response = await http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_metadata_document_describes_the_server(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/oauth-authorization-server")
    body = response.json()
    assert body["issuer"] == TEST_ISSUER
    assert body["token_endpoint"] == f"{TEST_ISSUER}/oauth/token"
    assert body["jwks_uri"] == f"{TEST_ISSUER}/.well-known/jwks.json"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "customs:read" in body["scopes_supported"]


async def test_jwks_publishes_public_keys_only(http: httpx.AsyncClient) -> None:
    published = (await http.get("/.well-known/jwks.json")).json()["keys"]
    # One token key, and the verifiable log's Ed25519 checkpoint key.
    keys = [k for k in published if k["kty"] != "OKP"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "EC"
    assert keys[0]["kid"]
    assert all("d" not in k for k in published)
    assert [k["crv"] for k in published if k["kty"] == "OKP"] == ["Ed25519"]
