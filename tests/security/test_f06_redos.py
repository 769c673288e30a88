"""Finding 6 (ReDoS): patterns run in linear time everywhere; a big invalid batch does not stall.

The attack: a registry admin publishes `pattern: "^(a+)+$"`, an enterprise declares a record
whose value is 27 `a`s and a `!`. Python's backtracking `re` needs 2^27 steps to fail it,
and the reference validator that writes the error messages used `re`: the whole process
stopped for seconds. Here Python's `re` is rigged to fail the test whenever it is handed
the published pattern, so the tests prove the pattern never reaches it (no clock involved).

The second attack: a 1,000-record invalid batch kept the event loop busy for 1-2 s, so
`/healthz` (and every other request) waited. The batch test below holds validation at its
first record until `/healthz` has answered: if validation ran on the event loop, `/healthz`
could not answer until the batch finished, and the order of events shows it.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from hub.standards import validation
from tests.standards.samples import PLATFORM

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

EVIL = "^(a+)+$"
EVIL_VALUE = "a" * 27 + "!"
ENTERPRISE = PLATFORM  # any registered enterprise code

CREATE = """mutation($id: String!) {
  createStandard(input: {id: $id, title: "Parcel", owner: "customs"}) { errors { code } }
}"""
PUBLISH = """mutation($id: String!, $schema: JSON!) {
  publishStandardVersion(input: {standardId: $id, version: "1.0.0", schema: $schema}) {
    version { state } errors { code path message }
  }
}"""
CHECK = """mutation($id: String!, $schema: JSON!) {
  checkCompatibility(input: {standardId: $id, version: "1.1.0", schema: $schema}) {
    report { compatible } errors { code path message }
  }
}"""
DECLARE = """mutation($p: JSON!, $s: String!) {
  declare(input: {standard: $s, payload: $p}) { declaration { id } errors { code path keyword } }
}"""
BATCH = """mutation($inputs: [DeclareInput!]!) {
  declareBatch(inputs: $inputs) { results { declaration { id } errors { code path } } }
}"""


def _parcel(**extra: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"code": {"type": "string", "x-hub-category": "logistics"}},
        **extra,
    }


@pytest.fixture
def python_re_refuses_the_evil_pattern(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Python's `re` fails (and records) any call that hands it a published test pattern."""
    calls: list[str] = []

    def rigged(name: str) -> Callable[..., Any]:
        original = getattr(re, name)

        def call(pattern: Any, *args: Any, **kwargs: Any) -> Any:
            text = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
            if isinstance(text, str) and "(a+)+" in text:
                calls.append(f"re.{name}({text!r})")
                raise AssertionError(f"Python's backtracking re was given {text!r}")
            return original(pattern, *args, **kwargs)

        return call

    for name in ("compile", "search", "match", "fullmatch", "findall", "finditer", "sub"):
        monkeypatch.setattr(re, name, rigged(name))
    yield calls


async def _publish(gql: Gql, admin: str, standard_id: str, schema: dict[str, Any]) -> Any:
    created = await gql(CREATE, token=admin, variables={"id": standard_id})
    assert created["data"]["createStandard"]["errors"] == [], created
    result = await gql(PUBLISH, token=admin, variables={"id": standard_id, "schema": schema})
    return result["data"]["publishStandardVersion"]


async def test_backtracking_pattern_is_refuted_in_linear_time_with_a_coded_error(
    gql: Gql, get_token: Token, python_re_refuses_the_evil_pattern: list[str]
) -> None:
    admin = await get_token(scopes="standards:write")
    schema = _parcel()
    schema["properties"]["code"]["pattern"] = EVIL
    published = await _publish(gql, admin, "zone.parcel", schema)
    assert published["errors"] == [] and published["version"]["state"] == "PUBLISHED"

    declarer = await get_token(scopes="declare", enterprise=ENTERPRISE)
    body = await gql(
        DECLARE, token=declarer, variables={"s": "zone.parcel", "p": {"code": EVIL_VALUE}}
    )
    assert "errors" not in body, body
    result = body["data"]["declare"]
    assert result["declaration"] is None
    assert result["errors"] == [{"code": "SCHEMA_VIOLATION", "path": "/code", "keyword": "pattern"}]
    assert python_re_refuses_the_evil_pattern == []
    # A matching value is accepted by the same linear engine.
    body = await gql(DECLARE, token=declarer, variables={"s": "zone.parcel", "p": {"code": "aaa"}})
    assert body["data"]["declare"]["errors"] == []


async def test_pattern_properties_and_unevaluated_properties_never_backtrack(
    gql: Gql, get_token: Token, python_re_refuses_the_evil_pattern: list[str]
) -> None:
    admin = await get_token(scopes="standards:write")
    schema = _parcel(
        patternProperties={EVIL: {"type": "string", "x-hub-category": "logistics"}},
        additionalProperties=False,
    )
    assert (await _publish(gql, admin, "zone.keys", schema))["errors"] == []
    nested = _parcel(
        allOf=[{"patternProperties": {EVIL: {"type": "string", "x-hub-category": "logistics"}}}],
        unevaluatedProperties=False,
    )
    assert (await _publish(gql, admin, "zone.nested", nested))["errors"] == []

    declarer = await get_token(scopes="declare", enterprise=ENTERPRISE)
    for standard in ("zone.keys", "zone.nested"):
        body = await gql(DECLARE, token=declarer, variables={"s": standard, "p": {EVIL_VALUE: "x"}})
        assert "errors" not in body, body
        errors = body["data"]["declare"]["errors"]
        assert errors and {e["code"] for e in errors} == {"SCHEMA_VIOLATION"}, errors
    assert python_re_refuses_the_evil_pattern == []


async def test_compatibility_check_matches_property_names_in_linear_time(
    gql: Gql, get_token: Token, python_re_refuses_the_evil_pattern: list[str]
) -> None:
    admin = await get_token(scopes="standards:write")
    schema = _parcel(patternProperties={EVIL: {"type": "string", "x-hub-category": "logistics"}})
    assert (await _publish(gql, admin, "zone.compat", schema))["errors"] == []
    # The candidate names a property the old version's patternProperties must be tried on.
    candidate = _parcel(patternProperties={EVIL: {"type": "string", "x-hub-category": "logistics"}})
    candidate["properties"][EVIL_VALUE] = {"type": "integer", "x-hub-category": "logistics"}
    body = await gql(CHECK, token=admin, variables={"id": "zone.compat", "schema": candidate})
    assert "errors" not in body, body
    assert body["data"]["checkCompatibility"]["errors"] == []
    assert python_re_refuses_the_evil_pattern == []


@pytest.mark.parametrize(
    ("pattern", "why"),
    [("^(?=.*[0-9])[a-z0-9]+$", "lookahead"), ("^(a)\\1$", "backreference")],
)
async def test_publishing_a_pattern_the_linear_engine_cannot_run_is_refused(
    gql: Gql, get_token: Token, pattern: str, why: str
) -> None:
    admin = await get_token(scopes="standards:write")
    schema = _parcel()
    schema["properties"]["code"]["pattern"] = pattern
    published = await _publish(gql, admin, "zone.refused", schema)
    assert published["version"] is None, why
    assert [(e["code"], e["path"]) for e in published["errors"]] == [
        ("UNSUPPORTED_PATTERN", "/properties/code/pattern")
    ]


async def test_pattern_property_names_are_checked_at_publish_too(
    gql: Gql, get_token: Token
) -> None:
    admin = await get_token(scopes="standards:write")
    published = await _publish(
        gql,
        admin,
        "zone.refused",
        _parcel(patternProperties={"^(?!x)": {"type": "string", "x-hub-category": "logistics"}}),
    )
    assert [(e["code"], e["path"]) for e in published["errors"]] == [
        ("UNSUPPORTED_PATTERN", "/patternProperties/^(?!x)")
    ]


def test_the_hot_path_engine_is_rusts_linear_regex_crate() -> None:
    # fancy-regex (jsonschema-rs's default) would compile a backreference; `regex` cannot.
    with pytest.raises(validation.SchemaCompileError):
        validation.compile_validator(
            schema={"type": "string", "pattern": "^(a)\\1$"},
            uri=validation.schema_uri("zone.x", "1.0.0"),
            resources={},
        )


async def test_healthz_answers_while_a_large_invalid_batch_is_being_validated(
    http: httpx.AsyncClient,
    get_token: Token,
    gql: Gql,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await get_token(scopes="standards:write")
    schema = _parcel(required=["code"])
    schema["properties"]["code"]["maxLength"] = 3
    assert (await _publish(gql, admin, "zone.bulk", schema))["errors"] == []
    declarer = await get_token(scopes="declare", enterprise=ENTERPRISE)

    validating = threading.Event()  # validation reached its first invalid record
    healthz_answered = threading.Event()
    order: list[str] = []
    original = validation.CompiledValidator.errors

    def held_errors(self: validation.CompiledValidator, instance: object, **kw: Any) -> Any:
        if not validating.is_set():
            validating.set()
            # Wait (bounded, so a regression fails rather than hangs) for /healthz to answer.
            released = healthz_answered.wait(timeout=20)
            order.append("validation resumed" if released else "validation gave up waiting")
        return original(self, instance, **kw)

    monkeypatch.setattr(validation.CompiledValidator, "errors", held_errors)
    inputs = [{"standard": "zone.bulk", "payload": {"code": f"too long {i}"}} for i in range(1000)]

    async def post_batch() -> httpx.Response:
        return await http.post(
            "/graphql",
            json={"query": BATCH, "variables": {"inputs": inputs}},
            headers={"Authorization": f"Bearer {declarer}"},
        )

    batch = asyncio.create_task(post_batch())
    reached = await asyncio.to_thread(validating.wait, 20)
    assert reached, "validation never started"
    health = await http.get("/healthz")
    order.append(f"healthz {health.status_code}")
    healthz_answered.set()
    response = await batch
    order.append("batch answered")

    assert order == ["healthz 200", "validation resumed", "batch answered"]
    results = response.json()["data"]["declareBatch"]["results"]
    assert len(results) == 1000
    assert all(
        r["declaration"] is None and r["errors"][0]["code"] == "SCHEMA_VIOLATION" for r in results
    )
