"""Finding 12: inputs that gave 500s. Each test is the attack; on the main this branch started
from (1d83197) each answered "internal error" or a plain 500: `_entities` without its key
fields, a cursor holding a 20-digit position, a NUL in the raw-schema URL on PostgreSQL, and
an invalid 300-deep record against a published recursive schema (a valid one was stored,
and every later walker of it risked the recursion limit). Each now gets a coded 4xx or a
validation error, on SQLite and PostgreSQL: records nest at most 64 levels (TOO_DEEP).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hub.canonical import MAX_DEPTH
from tests.standards.samples import SELLER

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]
ENTERPRISE = SELLER


def _codes(body: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors", [])]


# --- _entities without key fields ---------------------------------------------------------

ENTITIES = """query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order { orderNo }
    ... on Enterprise { code }
  }
}"""


@pytest.mark.parametrize(
    "representation",
    [
        {"__typename": "Order"},
        {"__typename": "Order", "ebpCode": "91320303MA1PLT001"},
        {"__typename": "Enterprise"},
        {"__typename": "Enterprise", "code": {"$gt": ""}},
        {"__typename": "Enterprise", "code": None},
        {"code": "91320303MA1PLT001"},
        {"__typename": "NoSuchType", "code": "x"},
        {"__typename": "PageInfo", "code": "x"},
        "just a string",
    ],
)
async def test_entities_with_malformed_representations_are_bad_input(
    gql: Gql, get_token: Token, representation: Any
) -> None:
    token = await get_token(scopes="customs:read")
    good = {"__typename": "Enterprise", "code": "91320303MA1PLT001"}
    body = await gql(ENTITIES, token=token, variables={"r": [good, representation]})

    assert _codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["path"] == ["_entities", 1]
    assert "internal error" not in str(body)
    # The well-formed representation next to it still resolves (to null: no such enterprise).
    assert body["data"]["_entities"][0] is None


# --- malformed cursors ----------------------------------------------------------------------


def _cursor(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        _cursor("order:99999999999999999999"),
        _cursor("order:9223372036854775808"),
        _cursor("order:-1"),
        _cursor("order:+1"),
        _cursor("order:1_000"),
        _cursor("order: 1"),
        _cursor("order:"),
        _cursor("order:١٢٣"),  # Arabic-Indic digits: int() takes them
        _cursor(b"order:\xff"),
        _cursor("enterprise:1"),
        "not base64 at all!",
        "é",
    ],
)
async def test_malformed_order_cursors_are_bad_input(
    gql: Gql, get_token: Token, after: str
) -> None:
    token = await get_token(scopes="customs:read")
    body = await gql(
        "query($a: String) { orders(first: 5, after: $a) { edges { cursor } } }",
        token=token,
        variables={"a": after},
    )
    assert _codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize(
    "after",
    [_cursor("enterprise:\x00"), _cursor("enterprise:" + "9" * 500), _cursor("enterprise:")],
)
async def test_malformed_enterprise_cursors_are_bad_input(
    gql: Gql, get_token: Token, after: str
) -> None:
    token = await get_token(scopes="customs:read")
    body = await gql(
        "query($a: String) { enterprises(first: 5, after: $a) { edges { cursor } } }",
        token=token,
        variables={"a": after},
    )
    assert _codes(body) == ["BAD_USER_INPUT"], body


# --- NUL and other malformed parts of the raw-schema URL -----------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/standards/cbec.order/1.0.0%00",
        "/standards/cbec.order%00/1.0.0",
        "/standards/cbec.order/1.0.0%0A",
        "/standards/cbec.order/%E9",
        "/standards/CBEC/1",
    ],
)
async def test_malformed_raw_schema_urls_are_4xx(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"] in ("INVALID_VERSION", "INVALID_STANDARD_ID", "UNKNOWN_VERSION")


# --- a deep record against a recursive schema -----------------------------------------------

CREATE = """mutation {
  createStandard(input: {id: "zone.tree", title: "Tree", owner: "customs"}) { errors { code } }
}"""
PUBLISH = """mutation($schema: JSON!) {
  publishStandardVersion(input: {standardId: "zone.tree", version: "1.0.0", schema: $schema}) {
    version { state } errors { code path message }
  }
}"""
DECLARE = """mutation($p: JSON!) {
  declare(input: {standard: "zone.tree", payload: $p}) {
    declaration { id } errors { code path keyword message }
  }
}"""
TREE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 3, "x-hub-category": "registration"},
        "child": {"$ref": "#", "x-hub-category": "registration"},
    },
}


def _nested(depth: int, leaf: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"name": leaf}
    for _ in range(depth - 1):
        record = {"name": "a", "child": record}
    return record


@pytest.fixture
async def tree_declarer(gql: Gql, get_token: Token) -> str:
    """A declarer's token, with the recursive standard published."""
    admin = await get_token(scopes="standards:write")
    assert _codes(await gql(CREATE, token=admin)) == []
    published = await gql(PUBLISH, token=admin, variables={"schema": TREE})
    assert published["data"]["publishStandardVersion"]["errors"] == [], published
    return await get_token(scopes="declare", enterprise=ENTERPRISE)


@pytest.mark.parametrize("depth", [300, 65, 900])
@pytest.mark.parametrize("leaf", ["ok", "far too long"])
async def test_a_deep_record_against_a_recursive_schema_is_refused_not_a_500(
    http: httpx.AsyncClient, tree_declarer: str, depth: int, leaf: str
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": DECLARE, "variables": {"p": _nested(depth, leaf)}},
        headers={"Authorization": f"Bearer {tree_declarer}"},
    )
    assert response.status_code == 200, response.text
    assert "internal error" not in response.text, response.text
    result = response.json()["data"]["declare"]
    assert result["declaration"] is None
    assert [e["code"] for e in result["errors"]] == ["TOO_DEEP"], result


@pytest.mark.parametrize(("leaf", "codes"), [("ok", []), ("far too long", ["SCHEMA_VIOLATION"])])
async def test_a_record_at_the_depth_limit_is_validated_as_usual(
    gql: Gql, tree_declarer: str, leaf: str, codes: list[str]
) -> None:
    body = await gql(DECLARE, token=tree_declarer, variables={"p": _nested(MAX_DEPTH, leaf)})
    result = body["data"]["declare"]
    assert [e["code"] for e in result["errors"]] == codes, result
    if codes:
        assert result["errors"][0]["path"] == "/child" * (MAX_DEPTH - 1) + "/name"
        assert result["errors"][0]["keyword"] == "maxLength"


def test_validation_messages_survive_a_record_deeper_than_the_stack() -> None:
    """Below the depth limit nothing recurses this far; the validator still never raises."""
    from hub.standards.validation import compile_validator

    validator = compile_validator(
        schema=TREE, uri="https://hub.invalid/standards/t/1.0.0", resources={}
    )
    issues = validator.errors(_nested(400, "far too long"))
    assert issues and all(issue.keyword for issue in issues)
