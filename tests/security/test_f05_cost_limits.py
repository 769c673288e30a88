"""Finding 5 (cost limit bypass): the cost is computed on the values the resolvers receive.

The attacks: twenty aliased `orders(first: $n)` with `$n` defaulting to 500 and the
variable omitted, or sent as `500.0` (an Int once coerced), were costed as if `first` were
50 and ran for seconds; `_entities` with 6,000 representations was costed as one entity.
Each is now refused before any resolver runs (no access event is written), and every list
argument of the schema has a maximum length.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType
from sqlalchemy import func, select

from hub.access.models import AccessEvent
from hub.config import Settings
from hub.db import create_engine
from hub.graphql import limits
from hub.graphql.schema import build_schema
from tests.standards.samples import PLATFORM

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

# With `first` at 50 the twenty aliases cost ~153,000 (under the 200,000 default); at the
# 500 they really fetch, ~15,000,000.
ALIASED = (
    "query($n: Int = 500) {"
    + " ".join(
        f"e{i}: enterprises(first: $n) {{ edges {{ node {{"
        f" orders(first: $n) {{ edges {{ node {{ orderNo }} }} }} }} }} }}"
        for i in range(20)
    )
    + "}"
)
ENTITIES = """query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Enterprise { orders(first: 500) { edges { node { orderNo } } } }
  }
}"""


async def _access_events(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(AccessEvent)))
    finally:
        await engine.dispose()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_an_omitted_variable_costs_its_default(
    gql: Gql, get_token: Token, settings: Settings
) -> None:
    token = await get_token(scopes="customs:read")
    body = await gql(ALIASED, token=token)
    assert body.get("data") is None
    assert _codes(body) == ["QUERY_TOO_COSTLY"]
    assert await _access_events(settings) == 0


async def test_a_float_first_costs_the_int_it_is_coerced_to(
    gql: Gql, get_token: Token, settings: Settings
) -> None:
    token = await get_token(scopes="customs:read")
    body = await gql(
        ALIASED.replace("$n: Int = 500", "$n: Int"), token=token, variables={"n": 500.0}
    )
    assert body.get("data") is None
    assert _codes(body) == ["QUERY_TOO_COSTLY"]
    assert await _access_events(settings) == 0


async def test_the_same_query_at_a_small_page_still_runs(gql: Gql, get_token: Token) -> None:
    token = await get_token(scopes="customs:read")
    body = await gql(ALIASED, token=token, variables={"n": 5})
    assert "errors" not in body, body
    assert body["data"]["e0"] == {"edges": []}


async def test_6000_entity_representations_are_refused(
    gql: Gql, get_token: Token, settings: Settings
) -> None:
    token = await get_token(scopes="customs:read")
    representations = [{"__typename": "Enterprise", "code": f"C{i:05d}"} for i in range(6000)]
    body = await gql(
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        token=token,
        variables={"r": representations},
    )
    assert body.get("data") is None
    assert _codes(body) == ["LIST_TOO_LONG"]
    assert str(limits.MAX_ENTITIES) in body["errors"][0]["message"]
    assert await _access_events(settings) == 0


async def test_entities_cost_one_selection_per_representation(
    gql: Gql, get_token: Token, settings: Settings
) -> None:
    token = await get_token(scopes="customs:read")
    representations = [{"__typename": "Enterprise", "code": f"C{i:05d}"} for i in range(400)]
    body = await gql(ENTITIES, token=token, variables={"r": representations})
    assert body.get("data") is None
    assert _codes(body) == ["QUERY_TOO_COSTLY"]
    assert await _access_events(settings) == 0
    # A handful of the same is cheap enough.
    body = await gql(ENTITIES, token=token, variables={"r": representations[:3]})
    assert "errors" not in body, body
    assert body["data"]["_entities"] == [None, None, None]


async def test_a_literal_list_over_its_cap_is_refused(gql: Gql, get_token: Token) -> None:
    token = await get_token(scopes="customs:read")
    dimensions = "TRADE_MODE, DIRECTION, BUSINESS_TYPE, MONTH, REGION, ENTERPRISE, MONTH"
    body = await gql(
        f"{{ statistics(groupBy: [{dimensions}]) {{ groups {{ orderCount }} }} }}", token=token
    )
    assert _codes(body) == ["LIST_TOO_LONG"]


async def test_a_list_inside_an_input_object_is_capped_too(gql: Gql, get_token: Token) -> None:
    token = await get_token(scopes="declare", enterprise=PLATFORM)
    body = await gql(
        """mutation($input: GrantConsentInput!) {
          grantConsent(input: $input) { errors { code } }
        }""",
        token=token,
        variables={
            "input": {
                "bank": "hub_x",
                "categories": ["ORDER"] * 50,
                "purpose": "loan",
                "dataFrom": "2025-01-01",
                "dataTo": "2025-12-31",
                "expiresAt": "2030-01-01T00:00:00+08:00",
            }
        },
    )
    assert _codes(body) == ["LIST_TOO_LONG"]
    assert "GrantConsentInput.categories" in body["errors"][0]["message"]


def _list_arguments() -> set[str]:
    """Every list-typed argument and input-object field of the schema, as LIST_CAPS names it."""

    def is_list(type_: Any) -> bool:
        return isinstance(
            type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList
        )

    found: set[str] = set()
    for name, type_ in build_schema()._schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                found.update(
                    f"{name}.{field_name}({arg})"
                    for arg, a in field.args.items()
                    if is_list(a.type)
                )
        elif isinstance(type_, GraphQLInputObjectType):
            found.update(f"{name}.{f}" for f, d in type_.fields.items() if is_list(d.type))
    return found


def test_every_list_argument_of_the_schema_has_a_cap() -> None:
    lists = _list_arguments()
    assert lists, "the schema has list arguments (_entities at least)"
    caps = limits.LIST_CAPS
    assert sorted(lists - caps.keys()) == [], "add these to hub.graphql.limits.LIST_CAPS"
    assert sorted(caps.keys() - lists) == [], "LIST_CAPS names lists the schema lacks"
    assert all(0 < cap <= 1000 for cap in caps.values()), caps
