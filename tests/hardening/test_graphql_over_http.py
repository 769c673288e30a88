"""/graphql speaks GraphQL over HTTP: media types, methods, status codes, request shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

Token = Callable[..., Awaitable[str]]
Counter = Callable[[str], Awaitable[int]]
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def customs(get_token: Token) -> str:
    return await get_token(scopes="customs:read")


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.1, application/json", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
    ],
)
async def test_the_response_media_type_follows_accept(
    http: httpx.AsyncClient, customs: str, accept: str | None, expected: str
) -> None:
    headers = auth(customs) if accept is None else auth(customs, Accept=accept)
    if accept is None:
        headers["Accept"] = ""  # httpx sends */* by default; an empty header is "none"
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", f"{GRAPHQL_RESPONSE};q=0"])
async def test_nothing_acceptable_is_406(
    http: httpx.AsyncClient, customs: str, count_rows: Counter, accept: str
) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ me { clientId } }"}, headers=auth(customs, Accept=accept)
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_unsupported_request_content_types_are_415(
    http: httpx.AsyncClient, customs: str, content_type: str | None
) -> None:
    headers = auth(customs)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await http.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_utf8_charset_is_accepted_in_any_spelling(
    http: httpx.AsyncClient, customs: str
) -> None:
    response = await http.post(
        "/graphql",
        content='{"query": "{ __type(name: \\"Run🏃\\") { name } }"}'.encode(),
        headers=auth(customs, **{"Content-Type": 'application/json; charset="UTF-8"'}),
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": None}}


async def test_get_runs_queries_from_the_url(http: httpx.AsyncClient, customs: str) -> None:
    response = await http.get(
        "/graphql",
        params={
            "query": "query Q($n: String!) { __type(name: $n) { name } }",
            "variables": '{"n": "Query"}',
            "operationName": "Q",
        },
        headers=auth(customs),
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__type": {"name": "Query"}}}


async def test_get_never_runs_a_mutation(
    http: httpx.AsyncClient, get_token: Token, count_rows: Counter
) -> None:
    admin = await get_token(scopes="standards:write")
    mutation = (
        'mutation { createStandard(input: {id: "zone.g", title: "G", owner: "c"}) '
        "{ errors { code } } }"
    )
    response = await http.get("/graphql", params={"query": mutation}, headers=auth(admin))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await count_rows("standards") == 0


async def test_other_methods_are_405(http: httpx.AsyncClient, customs: str) -> None:
    response = await http.put("/graphql", json={"query": "{ __typename }"}, headers=auth(customs))
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'"{ __typename }"', "not an object"),
        (b'[{"query": "{ __typename }"}]', "a batch"),
        (b'{"qeury": "{ __typename }"}', "no query"),
        (b'{"query": 1}', "query not a string"),
        (b'{"query": "{ __typename }", "variables": "x"}', "variables not an object"),
        (b'{"query": "{ __typename }", "operationName": 0}', "operationName not a string"),
        (b'{"query": "{ __typename }", "extensions": []}', "extensions not an object"),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_is_400(
    http: httpx.AsyncClient, customs: str, body: bytes, reason: str
) -> None:
    response = await http.post(
        "/graphql",
        content=body,
        headers=auth(customs, **{"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE}),
    )
    assert response.status_code == 400, reason
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{", None),  # does not parse
        ("{ noSuchField }", None),  # does not validate
        ("query($id: ID!) { declaration(id: $id) { id } }", {"id": None}),  # bad variables
    ],
    ids=["parse", "validation", "variables"],
)
async def test_request_errors_are_400_without_data_for_graphql_response_json_and_200_for_json(
    http: httpx.AsyncClient, customs: str, count_rows: Counter, query: str, variables: object
) -> None:
    payload = {"query": query, "variables": variables}
    modern = await http.post(
        "/graphql", json=payload, headers=auth(customs, Accept=GRAPHQL_RESPONSE)
    )
    legacy = await http.post(
        "/graphql", json=payload, headers=auth(customs, Accept="application/json")
    )
    assert modern.status_code == 400
    assert "data" not in modern.json() and modern.json()["errors"]
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None and legacy.json()["errors"]
    assert await count_rows("access_events") == 0


async def test_a_field_error_is_200_with_data_for_graphql_response_json(
    http: httpx.AsyncClient, get_token: Token
) -> None:
    # A caller without audit:read asking for the access log: the field fails, not the request.
    seller = await get_token(scopes="declare", enterprise="91320302MA1XYA0001")
    response = await http.post(
        "/graphql",
        json={"query": "{ __typename consents { id } }"},
        headers=auth(seller, Accept=GRAPHQL_RESPONSE),
    )
    assert response.status_code == 200
    assert "data" in response.json()


async def test_a_request_without_a_token_is_401_whatever_it_asks(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


async def test_several_operations_need_an_operation_name(
    http: httpx.AsyncClient, customs: str
) -> None:
    document = "query A { me { clientId } } query B { me { name } }"
    refused = await http.post(
        "/graphql", json={"query": document}, headers=auth(customs, Accept=GRAPHQL_RESPONSE)
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "data" not in refused.json()
    named = await http.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers=auth(customs, Accept=GRAPHQL_RESPONSE),
    )
    assert named.status_code == 200
    assert named.json() == {"data": {"me": {"name": "test"}}}
