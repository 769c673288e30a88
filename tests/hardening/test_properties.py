"""Property tests of declaration intake through GraphQL: mangled payloads get pointed refusals.

Valid sample records of every shipped standard are mutated at random — fields dropped,
values replaced by other types, very long or exotic unicode strings, huge numbers, nested
garbage, unknown fields, a payload that is not an object — and declared by the enterprise
that naturally sends them. Whatever the mutation, the answer is HTTP 200 without GraphQL
errors, and the record is either accepted (a declaration, no errors) or refused with coded
errors; a SCHEMA_VIOLATION carries a JSON pointer into the payload that was sent.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.declarations.errors import DeclarationErrorCode
from hub.demo.loader import DECLARANT_FIELD
from hub.standards.shipped import publish_shipped
from tests.standards.samples import PLATFORM, SAMPLES, sample

DECLARE = """
mutation($input: DeclareInput!) {
  declare(input: $input) {
    declaration { id contentHash }
    duplicate
    errors { code path keyword message }
  }
}"""
FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Errors that point at a member that is absent from the payload: the pointer's parent exists.
ABSENT_MEMBER_KEYWORDS = frozenset({"required", "dependentRequired"})
CODES = frozenset(code.name for code in DeclarationErrorCode)
SAMPLE_NAMES = [(standard, name) for standard, names in SAMPLES.items() for name in names]

Path = tuple[str | int, ...]

# -- strategies --------------------------------------------------------------------------------

huge_numbers = st.sampled_from(
    [10**100, -(10**100), 2**63, -(2**63) - 1, 2**64, 1e308, -1e308, 5e-324, -0.0, 10**4000]
)
exotic_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=40
)
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "号", "😀", "\u0301", " ", "\\", '"', "\u202e"]),
    st.integers(min_value=61, max_value=20_000),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    huge_numbers,
    exotic_text,
)
garbage = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(exotic_text, children, max_size=4)
    ),
    max_leaves=25,
)
replacement = st.one_of(scalars, long_text, garbage)


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a member of an object or an item of an array, depth first."""
    found: list[Path] = []
    members: list[tuple[str | int, Any]]
    if isinstance(value, dict):
        members = list(value.items())
    elif isinstance(value, list):
        members = list(enumerate(value))
    else:
        return found
    for key, child in members:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _container(payload: Any, path: Path) -> Any:
    node = payload
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated_records(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(standard, declarant, payload): a sample record with one to three mutations."""
    standard, name = draw(st.sampled_from(SAMPLE_NAMES))
    payload: Any = SAMPLES[standard][name]()
    declarant = str(payload[DECLARANT_FIELD[standard]])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["drop", "replace", "replace", "add", "whole"]))
        paths = _paths(payload)
        if kind == "whole" or not paths:
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                # Rarely: not an object at all. (A null payload is refused by GraphQL itself:
                # `payload: JSON!` is non-null, a variable error with `locations`.)
                payload = draw(st.one_of(st.booleans(), exotic_text, long_text, huge_numbers))
            continue
        path = draw(st.sampled_from(paths))
        container = _container(payload, path)
        if kind == "drop":
            del container[path[-1]]
        elif kind == "replace":
            container[path[-1]] = draw(replacement)
        elif isinstance(container, dict):
            container[draw(exotic_text)] = draw(replacement)
        else:
            container.append(draw(replacement))
    return standard, declarant, payload


# -- the oracle --------------------------------------------------------------------------------


def _decode_pointer(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _resolves(payload: Any, tokens: list[str]) -> bool:
    node = payload
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def refusal_problems(payload: Any, errors: list[dict[str, Any]]) -> list[str]:
    """Why these refusals are not pointed and coded; [] when they are."""
    problems = []
    for error in errors:
        if error["code"] not in CODES or not error["message"]:
            problems.append(f"uncoded or unexplained: {error}")
        if error["code"] != DeclarationErrorCode.SCHEMA_VIOLATION.name:
            continue
        pointer = error["path"]
        if pointer != "" and not pointer.startswith("/"):
            problems.append(f"not a JSON pointer: {error}")
            continue
        if not error["keyword"]:
            problems.append(f"no keyword: {error}")
        tokens = _decode_pointer(pointer)
        if error["keyword"] in ABSENT_MEMBER_KEYWORDS:
            if not tokens or not _resolves(payload, tokens[:-1]):
                problems.append(f"points at no object of the payload: {error}")
        elif not _resolves(payload, tokens):
            problems.append(f"points at nothing in the payload: {error}")
    return problems


def test_refusal_problems_flags_pointers_that_miss_the_payload() -> None:
    """The oracle itself: a pointer must lead into the payload that was sent."""
    payload = {"a": [{"b": 1}], "c~/d": 2}

    def violation(path: str, keyword: str = "type") -> dict[str, Any]:
        return {"code": "SCHEMA_VIOLATION", "path": path, "keyword": keyword, "message": "m"}

    assert refusal_problems(payload, [violation("/a/0/b"), violation("/c~0~1d")]) == []
    assert refusal_problems(payload, [violation("/a/0/x", "required")]) == []
    assert refusal_problems(payload, [violation("", "type")]) == []
    assert refusal_problems(payload, [violation("/a/1/b")])
    assert refusal_problems(payload, [violation("/x/y", "required")])
    assert refusal_problems(payload, [violation("a/0")])
    assert refusal_problems(payload, [violation("/a", keyword="")])
    assert refusal_problems(payload, [{"code": "NOPE", "path": "", "message": "m"}])


# -- the properties ----------------------------------------------------------------------------


@pytest.fixture
async def declare_as(
    app: Starlette, http: httpx.AsyncClient, get_token: Callable[..., Awaitable[str]]
) -> AsyncIterator[Callable[[str, str, Any], Awaitable[httpx.Response]]]:
    """Declares a record as the named enterprise's client (tokens made once per enterprise)."""
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    tokens: dict[str, str] = {}

    async def run(standard: str, declarant: str, payload: Any) -> httpx.Response:
        if declarant not in tokens:
            tokens[declarant] = await get_token(scopes="declare", enterprise=declarant)
        return await http.post(
            "/graphql",
            json={
                "query": DECLARE,
                "variables": {"input": {"standard": standard, "payload": payload}},
            },
            headers={"Authorization": f"Bearer {tokens[declarant]}"},
        )

    yield run


def _json_safe(value: Any) -> bool:
    """httpx refuses NaN and infinities in JSON bodies; the strategies never make them."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_json_safe(v) for v in value.values())
    if isinstance(value, list):
        return all(_json_safe(v) for v in value)
    return True


@FAST
@given(record=mutated_records())
async def test_mutated_records_are_accepted_or_refused_with_pointed_codes(
    declare_as: Callable[[str, str, Any], Awaitable[httpx.Response]],
    record: tuple[str, str, Any],
) -> None:
    standard, declarant, payload = record
    assert _json_safe(payload)
    sent = copy.deepcopy(payload)
    response = await declare_as(standard, declarant, payload)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert "errors" not in body, body["errors"]
    result = body["data"]["declare"]
    event("accepted" if not result["errors"] else f"refused: {result['errors'][0]['code']}")
    if result["errors"]:
        assert result["declaration"] is None, result
        assert refusal_problems(sent, result["errors"]) == []
    else:
        assert result["declaration"] is not None, result


# -- inputs the strategies above cannot send through httpx's JSON encoder, or rarely reach ------


def _raw_declare_body(payload_json: str) -> bytes:
    """A declare request whose payload is given as raw JSON text (ASCII)."""
    query = json.dumps(DECLARE)
    return (
        f'{{"query": {query}, "variables": {{"input": '
        f'{{"standard": "cbec.order", "payload": {payload_json}}}}}}}'
    ).encode()


def _error_problems(response: httpx.Response) -> list[str]:
    """A refusal must be a 4xx, or a 200 whose errors are all coded and none INTERNAL."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    body = response.json()
    problems = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "INTERNAL"):
            problems.append(f"{code or 'uncoded'}: {error['message']}")
    return problems


@pytest.fixture
async def raw_post(
    app: Starlette, get_token: Callable[..., Awaitable[str]]
) -> AsyncIterator[Callable[[bytes], Awaitable[httpx.Response]]]:
    """Posts raw bytes to /graphql as the platform; an unhandled exception becomes a 500."""
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
    token = await get_token(scopes="declare", enterprise=PLATFORM)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:

        async def post(body: bytes) -> httpx.Response:
            return await client.post(
                "/graphql",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )

        yield post


async def test_a_deeply_nested_payload_is_refused_without_a_server_error(
    raw_post: Callable[[bytes], Awaitable[httpx.Response]],
) -> None:
    depth = 5_000  # some 10 kB: far below any body limit
    response = await raw_post(_raw_declare_body("[" * depth + "]" * depth))
    assert _error_problems(response) == []


@pytest.mark.parametrize("where", ["value", "key"])
async def test_a_lone_surrogate_in_a_payload_is_refused_with_a_code(
    raw_post: Callable[[bytes], Awaitable[httpx.Response]], where: str
) -> None:
    order = sample("cbec.order", "import-9610")
    if where == "value":
        order["buyerName"] = "\ud800"
    else:
        order["note\udc00"] = "x"
    response = await raw_post(_raw_declare_body(json.dumps(order, ensure_ascii=True)))
    assert _error_problems(response) == []
    [error] = response.json()["data"]["declare"]["errors"]
    assert error["code"] == "INVALID_CHARACTERS"
    assert error["path"] == ("/buyerName" if where == "value" else "/note\\udc00")


async def test_a_nul_character_in_a_record_key_is_refused_with_a_code_on_both_databases(
    raw_post: Callable[[bytes], Awaitable[httpx.Response]],
) -> None:
    order = sample("cbec.order", "import-9610")
    order["orderNo"] = "XZ\u0000NUL"
    response = await raw_post(_raw_declare_body(json.dumps(order)))
    assert _error_problems(response) == []
    [error] = response.json()["data"]["declare"]["errors"]
    assert (error["code"], error["path"]) == ("INVALID_CHARACTERS", "/orderNo")
