"""The resource side: /graphql accepts only valid tokens of trusted issuers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from starlette.applications import Starlette

from hub.auth import keys
from hub.db import unit_of_work
from tests.support import TEST_ISSUER, jwt_claims, jwt_header

Token = Callable[..., Awaitable[str]]
ME = "{ me { clientId name scopes enterpriseCode issuer } }"


async def _me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )


def _sign(claims: dict[str, Any], key: ECKey, *, kid: str | None = None) -> str:
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid or key.kid}
    return jwt.encode(header, claims, key)


def _valid_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "aud": "hub",
        "sub": "hub_forged",
        "client_id": "hub_forged",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
        "scope": "customs:read",
    }
    claims.update(overrides)
    return claims


def _hub_key(app: Starlette) -> ECKey:
    key: ECKey = app.state.runtime.keys.signing_key()
    return key


def _assert_401(response: httpx.Response, error: str = "invalid_token") -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'error="{error}"' in challenge
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


async def test_me_reflects_the_token(http: httpx.AsyncClient, get_token: Token) -> None:
    token = await get_token(scopes="declare", enterprise="91320302MA1XYA0001", name="Seller ERP")
    response = await _me(http, token)
    assert response.status_code == 200
    me = response.json()["data"]["me"]
    assert me == {
        "clientId": jwt_claims(token)["client_id"],
        "name": "Seller ERP",
        "scopes": ["declare"],
        "enterpriseCode": "91320302MA1XYA0001",
        "issuer": TEST_ISSUER,
    }


async def test_request_without_token_gets_401_with_bearer_challenge(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/graphql", json={"query": ME})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="hub"'


async def test_non_bearer_scheme_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    _assert_401(response, "invalid_request")


async def test_garbage_token_is_refused(http: httpx.AsyncClient) -> None:
    _assert_401(await _me(http, "not-a-jwt"))


async def test_tampered_token_is_refused(http: httpx.AsyncClient, get_token: Token) -> None:
    token = await get_token(scopes="tax:read")
    head, _, signature = token.split(".")
    forged_payload = _b64(jwt_claims(token) | {"scope": "tax:read pii:read"})
    _assert_401(await _me(http, f"{head}.{forged_payload}.{signature}"))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_alg_none_token_is_refused(http: httpx.AsyncClient, get_token: Token) -> None:
    token = await get_token(scopes="tax:read")
    header = jwt_header(token) | {"alg": "none"}
    unsigned = f"{_b64(header)}.{token.split('.')[1]}."
    response = await _me(http, unsigned)
    _assert_401(response)
    assert "'none'" in response.json()["errors"][0]["message"]


async def test_hmac_token_signed_with_the_public_key_is_refused(
    http: httpx.AsyncClient, app: Starlette
) -> None:
    public = _hub_key(app).as_dict(private=False)
    secret = OctKey.import_key(str(public).encode())
    forged = jwt.encode({"alg": "HS256", "kid": public["kid"]}, _valid_claims(), secret)
    _assert_401(await _me(http, forged))


async def test_token_signed_by_a_foreign_key_is_refused(http: httpx.AsyncClient) -> None:
    foreign = keys.generate_key("ES256")
    _assert_401(await _me(http, _sign(_valid_claims(), foreign)))  # type: ignore[arg-type]


async def test_foreign_key_reusing_the_hubs_kid_is_refused(
    http: httpx.AsyncClient, app: Starlette
) -> None:
    foreign = keys.generate_key("ES256")
    token = _sign(_valid_claims(), foreign, kid=_hub_key(app).kid)  # type: ignore[arg-type]
    _assert_401(await _me(http, token))


async def test_expired_token_is_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    past = int(time.time()) - 7200
    token = _sign(_valid_claims(iat=past, exp=past + 600), _hub_key(app))
    _assert_401(await _me(http, token))


async def test_token_not_yet_valid_is_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    token = _sign(_valid_claims(nbf=int(time.time()) + 3600), _hub_key(app))
    _assert_401(await _me(http, token))


async def test_wrong_audience_is_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    _assert_401(await _me(http, _sign(_valid_claims(aud="another-api"), _hub_key(app))))


async def test_wrong_issuer_is_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    response = await _me(http, _sign(_valid_claims(iss="https://evil.example"), _hub_key(app)))
    _assert_401(response)
    assert "issuer" in response.json()["errors"][0]["message"]


async def test_a_correctly_signed_token_with_every_claim_right_is_accepted(
    http: httpx.AsyncClient, app: Starlette, register_client: Callable[..., Awaitable[Any]]
) -> None:
    # The control case for the refusals above: only the altered claim makes them fail.
    # (The client must exist: the bearer check refuses tokens of unknown or disabled clients.)
    client_id = (await register_client(scopes="customs:read")).client_id
    claims = _valid_claims(sub=client_id, client_id=client_id)
    response = await _me(http, _sign(claims, _hub_key(app)))
    assert response.status_code == 200
    assert response.json()["data"]["me"]["clientId"] == client_id
    unknown = await _me(http, _sign(_valid_claims(), _hub_key(app)))
    _assert_401(unknown)


async def test_tokens_signed_before_a_key_rotation_stay_valid(
    http: httpx.AsyncClient, app: Starlette, get_token: Token
) -> None:
    before = await get_token(scopes="tax:read")
    runtime = app.state.runtime
    async with unit_of_work(runtime.session_factory) as session:
        await keys.rotate(session=session, alg="ES256")
    await runtime.keys.reload()
    after = await get_token(scopes="tax:read")

    assert jwt_header(before)["kid"] != jwt_header(after)["kid"]
    assert (await _me(http, before)).status_code == 200
    assert (await _me(http, after)).status_code == 200
    jwks = (await http.get("/.well-known/jwks.json")).json()["keys"]
    published = {k["kid"] for k in jwks if k["kty"] != "OKP"}  # OKP: the log's key
    assert published == {jwt_header(before)["kid"], jwt_header(after)["kid"]}


@pytest.mark.parametrize("scopes", ["customs:read", "standards:write audit:read"])
async def test_token_scopes_reach_graphql_unchanged(
    http: httpx.AsyncClient, get_token: Token, scopes: str
) -> None:
    response = await _me(http, await get_token(scopes=scopes))
    assert sorted(response.json()["data"]["me"]["scopes"]) == sorted(scopes.split())
