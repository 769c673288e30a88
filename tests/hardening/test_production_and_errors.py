"""HUB_ENV=production switches introspection, GraphiQL and suggestions off; bugs are masked."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from hub.graphql import me as me_module
from tests.hardening.conftest import HubClient

Token = Callable[..., Awaitable[str]]
Counter = Callable[[str], Awaitable[int]]


@pytest.fixture
async def customs(get_token: Token) -> str:
    return await get_token(scopes="customs:read")


async def ask(client: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    "query", ["{ __schema { queryType { name } } }", '{ __type(name: "Query") { name } }']
)
async def test_production_refuses_introspection_with_a_code(
    hub_client: HubClient, customs: str, query: str
) -> None:
    async with hub_client(env="production") as client:
        response = await ask(client, customs, query)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["INTROSPECTION_DISABLED"]
    assert response.json()["data"] is None


async def test_production_still_answers_typename_and_development_introspects(
    hub_client: HubClient, http: httpx.AsyncClient, customs: str
) -> None:
    async with hub_client(env="production") as client:
        typename = await ask(client, customs, "{ __typename }")
    development = await ask(http, customs, "{ __schema { queryType { name } } }")
    assert typename.json() == {"data": {"__typename": "Query"}}
    assert development.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_production_serves_no_graphiql(hub_client: HubClient) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml"}
    async with hub_client(env="development") as client:
        development = await client.get("/graphql", headers=browser)
    async with hub_client(env="production") as client:
        production = await client.get("/graphql", headers=browser)
    assert development.status_code == 200 and "graphiql" in development.text.lower()
    assert production.status_code == 401
    assert "graphiql" not in production.text.lower()


@pytest.mark.parametrize(
    "query",
    [
        "{ mee { clientId } }",  # a field
        "{ me { clientIt } }",  # a field of a type
        '{ standard(idd: "x") { id } }',  # an argument
        "query($f: OrderFiltr) { orders(filter: $f) { edges { cursor } } }",  # a type
    ],
)
async def test_production_gives_no_suggestions(
    hub_client: HubClient, http: httpx.AsyncClient, customs: str, query: str
) -> None:
    development = await ask(http, customs, query)
    async with hub_client(env="production") as client:
        production = await ask(client, customs, query)
    assert "Did you mean" in development.text  # the switch has something to remove
    messages = [e["message"] for e in production.json()["errors"]]
    assert messages and all("Did you mean" not in m for m in messages)
    assert all(m.strip() for m in messages)


async def test_an_unexpected_exception_is_masked_and_its_id_is_in_the_log(
    http: httpx.AsyncClient,
    customs: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(**_: object) -> object:
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr(me_module, "Me", broken)
    with caplog.at_level(logging.ERROR, logger="hub.graphql"):
        response = await ask(http, customs, "{ me { clientId } }")

    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert "secret detail" not in response.text
    match = re.fullmatch(r"internal error \(id ([0-9a-f]{16})\)", error["message"])
    assert match is not None, error
    assert error["extensions"] == {"code": "INTERNAL", "errorId": match.group(1)}
    logged = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None and "secret detail" in str(logged[0].exc_info[1])


async def test_a_resolver_losing_the_database_makes_the_response_503_without_a_trace(
    http: httpx.AsyncClient, customs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(**_: object) -> object:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(me_module, "Me", unreachable)
    response = await ask(http, customs, "{ me { clientId } }")

    assert response.status_code == 503
    assert response.headers["retry-after"]
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert "SELECT" not in response.text and "refused" not in response.text
