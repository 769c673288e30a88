"""Every query limit refuses the document with its own code before anything executes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from hub.graphql.limits import exceeds_token_limit
from tests.hardening.conftest import HubClient

Token = Callable[..., Awaitable[str]]
Counter = Callable[[str], Awaitable[int]]

SMALL = {
    "max_query_depth": 5,
    "max_aliases": 3,
    "max_tokens": 200,
    "max_directives": 3,
    "max_root_fields": 3,
    "max_query_cost": 1000,
}


async def post(
    client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/graphql-response+json",
        },
    )


def refusal_codes(response: httpx.Response) -> list[str]:
    body = response.json()
    assert "data" not in body, body  # refused before execution: no data entry at all
    return [e["extensions"]["code"] for e in body["errors"]]


@pytest.fixture
async def customs(get_token: Token) -> str:
    return await get_token(scopes="customs:read")


async def test_a_query_within_every_limit_runs(
    hub_client: HubClient, customs: str, count_rows: Counter
) -> None:
    async with hub_client(**SMALL) as client:
        response = await post(
            client, customs, "{ me { clientId } orders(first: 10) { edges { node { orderNo } } } }"
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["orders"] == {"edges": []}


async def test_too_deep_a_query_is_refused_and_not_logged_as_an_access(
    hub_client: HubClient, customs: str, count_rows: Counter
) -> None:
    deep = "{ orders(first: 1) { edges { node { matching { discrepancies { code } } } } } }"
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, deep)
    assert response.status_code == 400
    assert refusal_codes(response) == ["QUERY_TOO_DEEP"]
    assert await count_rows("access_events") == 0


async def test_depth_counts_through_fragments(hub_client: HubClient, customs: str) -> None:
    query = """
      { orders(first: 1) { ...E } }
      fragment E on OrderConnection { edges { node { matching { ...D } } } }
      fragment D on Matching { discrepancies { code } }
    """
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, query)
    assert refusal_codes(response) == ["QUERY_TOO_DEEP"]


async def test_too_many_aliases_in_a_mutation_are_refused_and_nothing_is_created(
    hub_client: HubClient, get_token: Token, count_rows: Counter
) -> None:
    admin = await get_token(scopes="standards:write")
    creations = " ".join(
        f's{i}: createStandard(input: {{id: "zone.s{i}", title: "S", owner: "customs"}})'
        " { errors { code } }"
        for i in range(4)
    )
    async with hub_client(**SMALL) as client:
        response = await post(client, admin, f"mutation {{ {creations} }}")
    assert "TOO_MANY_ALIASES" in refusal_codes(response)
    assert await count_rows("standards") == 0


async def test_too_many_tokens_are_refused_before_parsing(
    hub_client: HubClient, customs: str
) -> None:
    query = "{ me { " + " ".join(["clientId"] * 250) + " } }"
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, query)
    assert refusal_codes(response) == ["TOO_MANY_TOKENS"]


def test_the_token_count_stops_at_the_limit_and_leaves_syntax_errors_to_the_parser() -> None:
    assert exceeds_token_limit("{ a b c }", 5) is False  # five tokens: { a b c }
    assert exceeds_token_limit("{ a b c d }", 5) is True
    assert exceeds_token_limit("{ a ^ }", 1) is True  # counted before the bad character
    assert exceeds_token_limit("{ ^ }", 5) is False


async def test_too_many_directives_are_refused(hub_client: HubClient, customs: str) -> None:
    query = (
        "{ me @include(if: true) { clientId @skip(if: false) name @include(if: true) "
        "scopes @skip(if: false) } }"
    )
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, query)
    assert refusal_codes(response) == ["TOO_MANY_DIRECTIVES"]


async def test_too_many_root_fields_are_refused(hub_client: HubClient, customs: str) -> None:
    query = "{ __typename me { clientId } standards { id } consents { id } }"
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, query)
    assert refusal_codes(response) == ["TOO_MANY_ROOT_FIELDS"]


@pytest.mark.parametrize(
    ("first", "allowed"),
    [(10, True), (None, True), (400, False)],
    ids=["first-10", "default-first", "first-400"],
)
async def test_a_connection_costs_first_times_its_selection(
    hub_client: HubClient, customs: str, first: int | None, allowed: bool
) -> None:
    # orders costs 1 + first × (edges 1 + node 1 + orderNo 1): 31, 151 (first 50), 1201.
    query = "query($n: Int) { orders(first: $n) { edges { node { orderNo } } } }"
    async with hub_client(**SMALL) as client:
        response = await post(client, customs, query, {"n": first})
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert refusal_codes(response) == ["QUERY_TOO_COSTLY"]


async def test_nested_connections_multiply(hub_client: HubClient, customs: str) -> None:
    # Each level alone is cheap; 20 enterprises × 20 declarations... is not.
    query = """{ enterprises(first: 30) { edges { node { code } } }
                 declarations(first: 30) { edges { node { id } } } }"""
    async with hub_client(**SMALL) as client:
        cheap = await post(client, customs, query)
        costly = await post(client, customs, query.replace("30", "300"))
    assert cheap.status_code == 200, cheap.text
    assert refusal_codes(costly) == ["QUERY_TOO_COSTLY"]


async def test_a_costly_mutation_is_refused_and_writes_nothing(
    hub_client: HubClient, get_token: Token, count_rows: Counter
) -> None:
    admin = await get_token(scopes="standards:write")
    mutation = """mutation { createStandard(input: {id: "zone.x", title: "X", owner: "customs"})
                 { standard { id } errors { code } } }"""
    async with hub_client(max_query_cost=3) as client:
        response = await post(client, admin, mutation)
    assert refusal_codes(response) == ["QUERY_TOO_COSTLY"]
    assert await count_rows("standards") == 0


async def test_fragment_bombs_are_measured_without_expanding_them(
    http: httpx.AsyncClient, customs: str
) -> None:
    # 2^30 copies of `me` once expanded: measured in one pass over the text.
    fragments = ["fragment F0 on Query { a: me { clientId } }"]
    for i in range(1, 31):
        fragments.append(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}")
    query = "{ ...F30 }\n" + "\n".join(fragments)
    response = await post(http, customs, query)
    assert "TOO_MANY_ALIASES" in refusal_codes(response)


async def test_default_limits_let_graphiql_introspect_the_schema(
    http: httpx.AsyncClient, customs: str
) -> None:
    response = await post(http, customs, get_introspection_query(descriptions=True))
    assert response.status_code == 200, response.text[:500]
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"
