"""Finding 11 (identity), each test written as the attack. On the main this branch started
from (1d83197) the attacks succeeded: an external token named a hub client and acted as it,
`kid: []` and non-UTF-8 or empty Basic credentials gave 500s, the token endpoint told
unknown ids from wrong secrets and had no limit, a loopback `X-Forwarded-Proto: https`
passed `hub serve`'s https check, a "Did you mean" survived inside variable errors, and no
token could be revoked (a disabled client's tokens kept working; /oauth/revoke and
/oauth/introspect were 404). A few parametrized cases main already refused (`alg: none`,
HMAC) stay beside them as regression guards.

Tokens come from the real token endpoint, requests go in-process through httpx (the proxy
test also through a real `hub serve`). The app of this module trusts an external identity
provider (a JWKS served on loopback), so the attacks that need one have it.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select
from starlette.applications import Starlette

from hub.access import consents
from hub.app import create_app
from hub.auth import clients, server
from hub.auth.keys import generate_key
from hub.auth.models import RevokedToken
from hub.config import ExternalIssuer, Settings
from hub.db import unit_of_work
from hub.http import proxies
from hub.observability.logs import FIELDS
from tests.builders.parties import (
    PLATFORM,
    SELLER,
    Actors,
    hub_actors,
    import_set,
    order_as_customs,
)
from tests.support import TEST_ISSUER, RegisteredClient, jwt_claims

__all__ = ["hub_actors"]  # the fixture, imported for its side of pytest

EXTERNAL_ISSUER = "https://idp.zone.test"
Register = Callable[..., Awaitable[RegisteredClient]]
ME = "{ me { clientId issuer scopes enterpriseCode } }"
ORDER = """query($ebp: String!, $no: String!) {
  order(ebpCode: $ebp, orderNo: $no) { goodsValue }
}"""
GRANT = """mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code message } }
}"""
ACCESS_LOG = """query($f: AccessLogFilter) {
  accessLog(filter: $f, first: 50) { edges { node { clientId clientIssuer operationName } } }
}"""


# --- an external identity provider ------------------------------------------------------


@pytest.fixture(scope="module")
def idp_key() -> ECKey:
    key: ECKey = generate_key("ES256")  # type: ignore[assignment]
    return key


@pytest.fixture(scope="module")
def jwks_url(idp_key: ECKey) -> Iterator[str]:
    document = json.dumps({"keys": [idp_key.as_dict(private=False)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def settings(database_url: str, jwks_url: str) -> Settings:
    """This module's hub also trusts the external identity provider."""
    return Settings(
        database_url=database_url,
        issuer=TEST_ISSUER,
        env="test",
        external=ExternalIssuer(issuer=EXTERNAL_ISSUER, jwks_url=jwks_url, audience="hub"),
    )


def idp_token(key: ECKey, client_id: str, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": EXTERNAL_ISSUER,
        "aud": "hub",
        "sub": client_id,
        "client_id": client_id,
        "iat": now,
        "exp": now + 300,
        "jti": f"ext-{client_id}",
        **claims,
    }
    return jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": key.kid}, body, key)


async def graphql(
    http: httpx.AsyncClient, query: str, token: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )


async def token_for(http: httpx.AsyncClient, client: RegisteredClient) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


# --- 1. principals are (issuer, client id) ----------------------------------------------


async def test_external_token_naming_a_hub_bank_does_not_read_under_its_consent(
    hub_actors: Actors, register_client: Register, idp_key: ECKey
) -> None:
    http = hub_actors.http
    docs = import_set("XZ-F11-0001")
    await hub_actors.file_all(docs, "order")
    bank = await register_client(name="Bank", scopes="finance:read")
    granted = await hub_actors.query(
        GRANT,
        as_=PLATFORM,
        variables={
            "input": {
                "bank": bank.client_id,
                "categories": ["ORDER"],
                "purpose": "loan",
                "dataFrom": "2000-01-01",
                "dataTo": "2099-12-31",
                "expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            }
        },
    )
    assert granted["data"]["grantConsent"]["errors"] == [], granted
    variables = {"ebp": PLATFORM, "no": "XZ-F11-0001"}
    # Control: the hub's bank reads the order under the consent.
    real = await graphql(http, ORDER, await token_for(http, bank), variables)
    assert real.json()["data"]["order"]["goodsValue"] is not None, real.text

    impostor = idp_token(idp_key, bank.client_id, scope="finance:read", client_name="Bank")
    response = await graphql(http, ORDER, impostor, variables)

    assert response.status_code == 401, response.text
    assert "goodsValue" not in response.text
    assert "belong to this hub" in response.json()["errors"][0]["message"]


async def test_external_token_naming_a_hub_enterprise_client_cannot_declare_as_it(
    hub_actors: Actors, idp_key: ECKey
) -> None:
    await hub_actors.enterprise(SELLER)  # the seller's hub client exists
    seller_client = hub_actors.client_ids[SELLER]
    impostor = idp_token(idp_key, seller_client, scope="declare", enterprise_code=SELLER)
    response = await graphql(hub_actors.http, ME, impostor)
    assert response.status_code == 401, response.text


async def test_consents_to_a_hub_bank_never_match_an_external_principal_of_the_same_id(
    hub_actors: Actors, register_client: Register, app: Starlette
) -> None:
    bank = await register_client(name="Bank", scopes="finance:read")
    runtime = app.state.runtime
    async with unit_of_work(runtime.session_factory) as session:
        await consents.grant(
            session=session,
            enterprise_code=PLATFORM,
            granted_by="hub_platform",
            bank_client_id=bank.client_id,
            categories=["order"],
            purpose="loan",
            data_from=datetime(2000, 1, 1).date(),
            data_to=datetime(2099, 1, 1).date(),
            expires_at=datetime.now(UTC) + timedelta(days=1),
            keys=runtime.keys,
            issuer=TEST_ISSUER,
        )
    async with runtime.session_factory() as session:
        mine = await consents.active_grants(
            session=session,
            bank_client_id=bank.client_id,
            enterprise_codes=None,
            at=datetime.now(UTC),
        )
        theirs = await consents.active_grants(
            session=session,
            bank_client_id=bank.client_id,
            enterprise_codes=None,
            at=datetime.now(UTC),
            bank_issuer=EXTERNAL_ISSUER,
        )
    assert set(mine) == {PLATFORM}
    assert theirs == {}


async def test_access_log_keeps_the_external_issuer_beside_the_client_id(
    hub_actors: Actors, idp_key: ECKey
) -> None:
    http = hub_actors.http
    await hub_actors.file_all(import_set("XZ-F11-0002"), "order")
    await order_as_customs(hub_actors, PLATFORM, "XZ-F11-0002")  # a hub client's read
    external = idp_token(idp_key, "svc-forex-portal", scope="customs:read")
    read = await graphql(
        http,
        "query Peek($ebp: String!, $no: String!) { order(ebpCode: $ebp, orderNo: $no) "
        "{ orderNo } }",
        external,
        {"ebp": PLATFORM, "no": "XZ-F11-0002"},
    )
    assert read.json()["data"]["order"]["orderNo"] == "XZ-F11-0002", read.text

    by_hub_id = await hub_actors.query(
        ACCESS_LOG, scopes="audit:read", variables={"f": {"clientId": "svc-forex-portal"}}
    )
    by_principal = await hub_actors.query(
        ACCESS_LOG,
        scopes="audit:read",
        variables={"f": {"clientId": "svc-forex-portal", "clientIssuer": EXTERNAL_ISSUER}},
    )
    # `clientId` alone names a client of this hub: the external client is another principal.
    assert by_hub_id["data"]["accessLog"]["edges"] == []
    nodes = [e["node"] for e in by_principal["data"]["accessLog"]["edges"]]
    assert {
        "clientId": "svc-forex-portal",
        "clientIssuer": EXTERNAL_ISSUER,
        "operationName": "Peek",
    } in nodes
    everything = await hub_actors.query(ACCESS_LOG, scopes="audit:read")
    hub_events = [
        e["node"]
        for e in everything["data"]["accessLog"]["edges"]
        if e["node"]["clientIssuer"] is None
    ]
    assert hub_events and all(n["clientId"].startswith("hub_") for n in hub_events)


# --- 2. one invalid_client for every failed client authentication -----------------------


async def test_unknown_client_wrong_secret_and_disabled_client_get_the_same_answer(
    http: httpx.AsyncClient,
    register_client: Register,
    app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    known = await register_client(scopes="customs:read")
    disabled = await register_client(scopes="customs:read")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await clients.disable(session=session, client_id=disabled.client_id)
    compared: list[str] = []
    original = server.secret_matches

    def counting(*, secret: str, secret_hash: str) -> bool:
        compared.append(secret_hash)
        return original(secret=secret, secret_hash=secret_hash)

    monkeypatch.setattr(server, "secret_matches", counting)
    attempts = {
        "unknown": ("hub_00000000000000000000", "whatever-secret"),
        "wrong secret": (known.client_id, "not-the-secret"),
        "disabled, right secret": (disabled.client_id, disabled.client_secret),
    }
    answers = {}
    for name, (client_id, secret) in attempts.items():
        for style in ("basic", "post"):
            compared.clear()
            form = {"grant_type": "client_credentials"}
            if style == "post":
                form |= {"client_id": client_id, "client_secret": secret}
                response = await http.post("/oauth/token", data=form)
            else:
                response = await http.post("/oauth/token", data=form, auth=(client_id, secret))
            answers[(name, style)] = (
                response.status_code,
                response.json(),
                response.headers.get("www-authenticate"),
            )
            # One secret comparison every time: no branch skips the hashing.
            assert len(compared) == 1, (name, style, compared)

    assert len(set(map(json.dumps, answers.values()))) == 1, answers
    status, body, challenge = next(iter(answers.values()))
    assert status == 401
    assert body == {"error": "invalid_client", "error_description": "client authentication failed"}
    assert challenge is not None and challenge.startswith("Basic ")


# --- 3. the token endpoint is rate-limited ----------------------------------------------


@asynccontextmanager
async def limited_hub(
    settings: Settings, *, peer: str = "127.0.0.1", **overrides: Any
) -> AsyncIterator[tuple[Starlette, Callable[[str], httpx.AsyncClient]]]:
    """A hub with its own settings; `client(address)` talks to it from that peer address."""
    values = {**vars(settings), **overrides}
    application = create_app(Settings(**values))
    async with application.router.lifespan_context(application):

        def client(address: str = peer) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=application, client=(address, 4321))
            return httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER)

        yield application, client


async def _token_attempt(http: httpx.AsyncClient, client_id: str) -> httpx.Response:
    return await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "x")
    )


async def test_one_client_id_is_limited_from_any_number_of_addresses(
    settings: Settings, register_client: Register
) -> None:
    victim = await register_client(scopes="customs:read")
    async with limited_hub(settings, token_rate_limit_per_second=0.1, token_rate_limit_burst=3) as (
        _,
        client,
    ):
        statuses = []
        for index in range(5):
            async with client(f"198.51.100.{index + 1}") as http:
                statuses.append((await _token_attempt(http, victim.client_id)).status_code)
        async with client("198.51.100.99") as http:
            refused = await _token_attempt(http, victim.client_id)
            other = await _token_attempt(http, "hub_someoneelse0000000")
    assert statuses == [401, 401, 401, 429, 429]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "slow_down"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert other.status_code == 401  # another client id is not held up by the first


async def test_one_address_is_limited_whatever_client_ids_it_tries(settings: Settings) -> None:
    async with limited_hub(
        settings, token_address_rate_limit_per_second=0.1, token_address_rate_limit_burst=4
    ) as (_, client):
        async with client("203.0.113.7") as http:
            statuses = [
                (await _token_attempt(http, f"hub_guess{index:016d}")).status_code
                for index in range(6)
            ]
            revoke = await http.post("/oauth/revoke", data={"token": "x"}, auth=("a", "b"))
        async with client("203.0.113.8") as http:
            elsewhere = await _token_attempt(http, "hub_guess0000000000000001")
    assert statuses == [401, 401, 401, 401, 429, 429]
    assert revoke.status_code == 429  # revocation and introspection share the limit
    assert elsewhere.status_code == 401


# --- 4. malformed tokens and credentials: 401, never 500 --------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _raw_token(header: Any, claims: Any | None = None, signature: bytes = b"sig") -> str:
    now = int(time.time())
    body = (
        claims
        if claims is not None
        else {
            "iss": TEST_ISSUER,
            "aud": "hub",
            "sub": "hub_x",
            "client_id": "hub_x",
            "iat": now,
            "exp": now + 60,
            "jti": "j",
        }
    )
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return ".".join((_b64(head), _b64(json.dumps(body).encode()), _b64(signature)))


def _signed(app: Starlette, header: dict[str, Any], **claims: Any) -> str:
    key = app.state.runtime.keys.signing_key()
    now = int(time.time())
    body = {
        "iss": TEST_ISSUER,
        "aud": "hub",
        "sub": "hub_x",
        "client_id": "hub_x",
        "iat": now,
        "exp": now + 60,
        "jti": "j",
        **claims,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid, **header}, body, key)


MALFORMED_HEADERS = {
    "kid is a list": {"alg": "ES256", "typ": "at+jwt", "kid": ["a", "b"]},
    "kid is an object": {"alg": "ES256", "typ": "at+jwt", "kid": {"$ne": ""}},
    "alg none": {"alg": "none", "typ": "at+jwt"},
    "alg is a list": {"alg": ["ES256"], "typ": "at+jwt"},
    "HMAC": {"alg": "HS256", "typ": "at+jwt"},
    "typ JWT": {"alg": "ES256", "typ": "JWT"},
    "typ is a number": {"alg": "ES256", "typ": 7},
    "no typ": {"alg": "ES256"},
    "critical extension": {"alg": "ES256", "typ": "at+jwt", "crit": ["exp"], "exp": 1},
    "header is a list": ["alg", "ES256"],
}


@pytest.mark.parametrize("case", list(MALFORMED_HEADERS))
async def test_malformed_jose_headers_get_401(http: httpx.AsyncClient, case: str) -> None:
    response = await graphql(http, ME, _raw_token(MALFORMED_HEADERS[case]))
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "token",
    [
        "not-base64!.e30.sig",
        _b64(b"\xff\xfe{") + ".e30.sig",  # not UTF-8
        _b64(b"{not json") + ".e30.sig",
        _b64(b"[" * 5000 + b"]" * 5000) + ".e30.sig",  # nests past the JSON parser's depth
        "a.b",
    ],
)
async def test_unreadable_tokens_get_401(http: httpx.AsyncClient, token: str) -> None:
    response = await graphql(http, ME, token)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "tomorrow"},
        {"iat": [1]},
        {"client_id": 42},
        {"enterprise_code": ["91320303MA1PLT001"]},
        {"scope": {"customs:read": True}},
        {"exp": True},
    ],
)
async def test_correctly_signed_tokens_with_mistyped_claims_get_401(
    http: httpx.AsyncClient, app: Starlette, claims: dict[str, Any]
) -> None:
    token = _signed(app, {"typ": "at+jwt"}, **claims)
    response = await graphql(http, ME, token)
    assert response.status_code == 401, response.text


async def test_non_utf8_bearer_header_bytes_get_401(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": ME}, headers=[(b"authorization", b"Bearer \xff\xfe.\xc3.\x80")]
    )
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
@pytest.mark.parametrize(
    "credentials",
    [
        b"Basic " + base64.b64encode(b"\xff\xfe:\xff\xfe"),  # base64, but not UTF-8 inside
        b"Basic !!!not-base64!!!",
        b"Basic " + base64.b64encode(b"no-colon-at-all"),
        b"Basic ",
        b"Basic \xff\xfe",  # header bytes that are not even ASCII
    ],
)
async def test_unreadable_basic_credentials_get_invalid_client(
    http: httpx.AsyncClient, path: str, credentials: bytes
) -> None:
    response = await http.post(
        path,
        content=b"grant_type=client_credentials&token=x",
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"authorization", credentials),
        ],
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


# --- 5. forwarded headers count only from HUB_TRUSTED_PROXIES ---------------------------


async def test_loopback_client_claiming_https_does_not_pass_the_https_check(
    settings: Settings, register_client: Register
) -> None:
    client = await register_client(scopes="customs:read")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"}
    form = {"grant_type": "client_credentials"}
    auth = (client.client_id, client.client_secret)
    async with limited_hub(settings, require_https=True) as (_, connect), connect() as http:
        spoofed = await http.post("/oauth/token", data=form, auth=auth, headers=forwarded)
    async with limited_hub(
        settings, require_https=True, trusted_proxies=(ipaddress.ip_network("10.0.0.2"),)
    ) as (_, connect):
        async with connect("127.0.0.1") as http:
            still_spoofed = await http.post("/oauth/token", data=form, auth=auth, headers=forwarded)
        async with connect("10.0.0.2") as http:
            via_proxy = await http.post("/oauth/token", data=form, auth=auth, headers=forwarded)
    assert spoofed.status_code == 400, spoofed.text
    assert "https" in spoofed.json()["error_description"]
    assert still_spoofed.status_code == 400  # loopback is not the configured proxy
    assert via_proxy.status_code == 200, via_proxy.text


async def test_rate_limit_and_log_address_follow_only_a_trusted_proxy(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with limited_hub(
        settings,
        token_address_rate_limit_per_second=0.1,
        token_address_rate_limit_burst=2,
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),),
    ) as (_, connect):
        statuses: dict[str, list[int]] = {}
        with caplog.at_level("INFO", logger="hub.request"):
            # Through the trusted proxy, each forwarded client has its own limit; the
            # right-most untrusted entry counts (the client wrote the ones left of it).
            async with connect("10.0.0.2") as proxy:
                for who in ("192.0.2.1", "192.0.2.2"):
                    statuses[who] = [
                        (
                            await proxy.post(
                                "/oauth/token",
                                data={"grant_type": "client_credentials"},
                                auth=("hub_nobody000000000000", "x"),
                                headers={"X-Forwarded-For": f"6.6.6.6, {who}, 10.0.0.9"},
                            )
                        ).status_code
                        for _ in range(3)
                    ]
            # An untrusted peer cannot pick its address: every claim counts against the peer.
            async with connect("198.51.100.5") as direct:
                statuses["direct"] = [
                    (
                        await direct.post(
                            "/oauth/token",
                            data={"grant_type": "client_credentials"},
                            auth=("hub_nobody000000000000", "x"),
                            headers={"X-Forwarded-For": f"192.0.2.{100 + i}"},
                        )
                    ).status_code
                    for i in range(3)
                ]
    assert statuses == {
        "192.0.2.1": [401, 401, 429],
        "192.0.2.2": [401, 401, 429],
        "direct": [401, 401, 429],
    }
    logged = {getattr(r, FIELDS)["remote_addr"] for r in caplog.records if hasattr(r, FIELDS)}
    assert logged == {"192.0.2.1", "192.0.2.2", "198.51.100.5"}


@pytest.mark.parametrize(
    ("peer", "headers", "scheme", "client"),
    [
        # Untrusted peer: nothing changes, whatever it claims.
        (
            "127.0.0.1",
            {"x-forwarded-proto": "https", "x-forwarded-for": "1.2.3.4"},
            "http",
            "127.0.0.1",
        ),
        # Trusted peer (IPv4-mapped IPv6 counts as its IPv4 address).
        (
            "::ffff:10.0.0.2",
            {"x-forwarded-proto": "https", "x-forwarded-for": "1.2.3.4"},
            "https",
            "1.2.3.4",
        ),
        # The last proto value is the trusted proxy's; a made-up scheme is ignored.
        ("10.0.0.2", {"x-forwarded-proto": "http, https"}, "https", "10.0.0.2"),
        ("10.0.0.2", {"x-forwarded-proto": "gopher"}, "http", "10.0.0.2"),
        # Garbage in the chain: keep the peer rather than trust what is left of it.
        ("10.0.0.2", {"x-forwarded-for": "1.2.3.4, not-an-ip"}, "http", "10.0.0.2"),
        # Every entry a trusted proxy: the peer stays.
        ("10.0.0.2", {"x-forwarded-for": "10.0.0.3, 10.0.0.4"}, "http", "10.0.0.2"),
    ],
)
def test_forwarded_headers_are_read_only_as_far_as_trust_goes(
    peer: str, headers: dict[str, str], scheme: str, client: str
) -> None:
    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 1234),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    result = proxies.forwarded_scope(scope, (ipaddress.ip_network("10.0.0.0/8"),))
    assert (result["scheme"], result["client"][0]) == (scheme, client)


def test_websocket_upgrades_take_the_secure_scheme_from_a_trusted_proxy() -> None:
    scope = {
        "type": "websocket",
        "scheme": "ws",
        "client": ("10.0.0.2", 1),
        "headers": [(b"x-forwarded-proto", b"https")],
    }
    assert proxies.forwarded_scope(scope, (ipaddress.ip_network("10.0.0.0/8"),))["scheme"] == "wss"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_hub_serve_ignores_forwarded_proto_from_a_loopback_client(tmp_path: Path) -> None:
    """The real server: uvicorn trusted X-Forwarded-* from 127.0.0.1 by default."""
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
        "HUB_REQUIRE_HTTPS": "true",
    }
    env.pop("HUB_TRUSTED_PROXIES", None)
    subprocess.run(
        [sys.executable, "-m", "hub.cli", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "clients",
            "create",
            "--name",
            "C",
            "--scopes",
            "customs:read",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    credentials = json.loads(created.stdout)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hub serve did not start"
            time.sleep(0.2)
        response = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["client_id"], credentials["client_secret"]),
            headers={"X-Forwarded-Proto": "https"},
            timeout=10,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert response.status_code == 400, response.text
    assert "https" in response.json()["error_description"]


# --- 6. no "Did you mean" in production, variable errors included -----------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (
            "query($f: OrderFilter) { orders(filter: $f) { edges { cursor } } }",
            {"f": {"matchStatuss": "MATCHED"}},
        ),
        (
            "query($s: MatchStatus) { orders(filter: {matchStatus: $s}) { edges { cursor } } }",
            {"s": "MATCHD"},
        ),
        ("{ orderz { edges { cursor } } }", None),
        ("{ orders(firts: 1) { edges { cursor } } }", None),
        ("query($f: OrderFiltr) { orders(filter: $f) { edges { cursor } } }", None),
    ],
)
async def test_production_messages_carry_no_suggestions(
    settings: Settings,
    register_client: Register,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    client = await register_client(scopes="customs:read")
    async with limited_hub(settings, env="production") as (_, connect), connect() as http:
        token = await token_for(http, client)
        headers = {"Authorization": f"Bearer {token}"}
        bodies = [
            await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={**headers, "Accept": accept},
            )
            for accept in ("application/json", "application/graphql-response+json")
        ]
        bodies.append(
            await http.get(
                "/graphql",
                params={"query": query, "variables": json.dumps(variables)},
                headers=headers,
            )
        )
    for response in bodies:
        assert response.status_code in (200, 400)
        assert response.json()["errors"], response.text
        assert "Did you mean" not in response.text, response.text
        assert "matchStatus'" not in response.text or "matchStatuss" in query


# --- 7. RFC 7009 revocation, RFC 7662 introspection, disabling revokes ------------------


async def _revoke(http: httpx.AsyncClient, client: RegisteredClient, token: str) -> httpx.Response:
    return await http.post(
        "/oauth/revoke",
        data={"token": token, "token_type_hint": "access_token"},
        auth=(client.client_id, client.client_secret),
    )


async def _introspect(
    http: httpx.AsyncClient, client: RegisteredClient, token: str
) -> httpx.Response:
    return await http.post(
        "/oauth/introspect", data={"token": token}, auth=(client.client_id, client.client_secret)
    )


async def test_a_revoked_token_stops_working_at_once(
    http: httpx.AsyncClient, register_client: Register, app: Starlette
) -> None:
    client = await register_client(scopes="customs:read")
    token, spare = await token_for(http, client), await token_for(http, client)
    assert jwt_claims(token)["jti"] != jwt_claims(spare)["jti"]
    assert (await graphql(http, ME, token)).status_code == 200
    live = (await _introspect(http, client, token)).json()

    revoked = await _revoke(http, client, token)
    again = await _revoke(http, client, token)  # RFC 7009: revoking twice is fine

    assert revoked.status_code == 200 and again.status_code == 200
    refused = await graphql(http, ME, token)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["errors"][0]["message"]
    assert (await _introspect(http, client, token)).json() == {"active": False}
    assert (await graphql(http, ME, spare)).status_code == 200  # only that token
    assert live["active"] is True
    assert live["client_id"] == client.client_id
    assert live["scope"] == "customs:read"
    assert live["jti"] == jwt_claims(token)["jti"]
    assert live["exp"] == jwt_claims(token)["exp"]
    async with app.state.runtime.session_factory() as session:
        row = await session.get(RevokedToken, jwt_claims(token)["jti"])
    assert row is not None  # kept until the token would have expired
    assert int(row.expires_at.timestamp()) == jwt_claims(token)["exp"]


async def test_revoked_tokens_are_forgotten_once_they_have_expired(
    http: httpx.AsyncClient, register_client: Register, app: Starlette
) -> None:
    client = await register_client(scopes="customs:read")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        past = datetime.now(UTC) - timedelta(hours=1)
        session.add(RevokedToken(jti="old", client_id="hub_x", expires_at=past, revoked_at=past))
    assert (await _revoke(http, client, await token_for(http, client))).status_code == 200
    async with app.state.runtime.session_factory() as session:
        left = set(await session.scalars(select(RevokedToken.jti)))
    assert "old" not in left and len(left) == 1


async def test_a_client_cannot_revoke_or_introspect_another_clients_token(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    victim = await register_client(scopes="customs:read")
    attacker = await register_client(scopes="tax:read")
    token = await token_for(http, victim)

    revoked = await _revoke(http, attacker, token)
    introspected = await _introspect(http, attacker, token)

    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    assert introspected.status_code == 200 and introspected.json() == {"active": False}
    assert (await graphql(http, ME, token)).status_code == 200  # still the victim's


async def test_revocation_and_introspection_need_client_authentication(
    http: httpx.AsyncClient, register_client: Register
) -> None:
    client = await register_client(scopes="customs:read")
    token = await token_for(http, client)
    for path in ("/oauth/revoke", "/oauth/introspect"):
        anonymous = await http.post(path, data={"token": token})
        wrong = await http.post(path, data={"token": token}, auth=(client.client_id, "nope"))
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert (await graphql(http, ME, token)).status_code == 200


async def test_garbage_and_foreign_tokens_revoke_nothing_and_are_not_active(
    http: httpx.AsyncClient, register_client: Register, idp_key: ECKey
) -> None:
    client = await register_client(scopes="customs:read")
    for token in (
        "garbage",
        _raw_token({"alg": "ES256", "typ": "at+jwt", "kid": []}),
        idp_token(idp_key, client.client_id),
    ):
        assert (await _revoke(http, client, token)).status_code == 200
        assert (await _introspect(http, client, token)).json() == {"active": False}
    missing = await http.post(
        "/oauth/revoke", data={}, auth=(client.client_id, client.client_secret)
    )
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


async def test_disabling_a_client_revokes_its_live_tokens_and_enabling_does_not_restore_them(
    http: httpx.AsyncClient, register_client: Register, app: Starlette
) -> None:
    client = await register_client(scopes="customs:read")
    token = await token_for(http, client)
    assert (await graphql(http, ME, token)).status_code == 200
    factory = app.state.runtime.session_factory

    async with unit_of_work(factory) as session:
        await clients.disable(session=session, client_id=client.client_id)
    while_disabled = await graphql(http, ME, token)
    async with unit_of_work(factory) as session:
        await clients.enable(session=session, client_id=client.client_id)
    await asyncio.sleep(1.05)  # `iat` has whole seconds: a token of the same second counts as old
    after_enable = await graphql(http, ME, token)
    fresh = await token_for(http, client)

    assert while_disabled.status_code == 401
    assert "disabled" in while_disabled.json()["errors"][0]["message"]
    assert after_enable.status_code == 401
    assert (await graphql(http, ME, fresh)).status_code == 200


async def test_metadata_advertises_revocation_and_introspection(http: httpx.AsyncClient) -> None:
    document = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert document["revocation_endpoint"] == f"{TEST_ISSUER}/oauth/revoke"
    assert document["introspection_endpoint"] == f"{TEST_ISSUER}/oauth/introspect"
    assert set(document["revocation_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
