"""Schemathesis' GraphQL mode against a real `hub serve`: no 5xx, no uncoded or internal error.

Schemathesis introspects the live schema and generates, for every root field (queries and
mutations alike), operations with valid arguments (positive mode) and with arguments that
break the schema's types (negative mode). They are sent as two real callers: a customs
reader (`customs:read pii:read`) and an enterprise declarer (`declare`, bound to a demo
platform), on a hub with a little demo data on SQLite and on PostgreSQL.

What counts as a failure, precisely:
- any HTTP status ≥ 500, or a body that is not a JSON object;
- an *execution* error (one with a `path`: a resolver ran) without `extensions.code`;
- any error whose code is `INTERNAL`: the hub masks unexpected exceptions with that code, so
  it means a bug, not a refusal;
- a *request* error (no `path`: the document did not parse or validate, so nothing ran)
  that has neither `extensions.code` nor `locations`, or that comes with any `data` other
  than null. GraphQL's own parse and validation errors carry no code by specification; they
  are recognised by their `locations` in the document and by execution never starting.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import unittest
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from schemathesis import GenerationMode

from tests.standards.samples import SAMPLES

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 12  # per operation, caller and mode: ~1,200 operations per backend
MINIMUM_OPERATIONS = 1_000
DEMO_ORDERS = 12


def _literal(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (what the JSON scalar parses back)."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_literal(item) for item in value])
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=_literal(item))
            for key, item in value.items()
        ]
    )


# Custom scalars schemathesis cannot know. JSON (declaration payloads, schemas): valid sample
# records half the time, so intake gets past validation too, else arbitrary JSON whose object
# keys are GraphQL names (a literal's field names must be). Decimal: numbers and junk text.
_names = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,12}", fullmatch=True)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**31), max_value=2**31 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_names, children, max_size=4),
    max_leaves=20,
)
_samples = st.sampled_from(
    [factory for names in SAMPLES.values() for factory in names.values()]
).map(lambda factory: factory())
schemathesis.graphql.scalar("JSON", st.one_of(_samples, _json_values).map(_literal))
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["", "abc", "NaN", "Infinity", "1e999999", "-0", "9" * 400]),
    ).map(nodes.String),
)


@dataclass(frozen=True)
class LiveHub:
    """A served hub and the bearer tokens of the two fuzzing callers."""

    backend: str
    base: str
    tokens: dict[str, str]  # caller name → access token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hub(*args: str, env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _wait_until_serving(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"hub serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("hub serve did not start within 60 s")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live_hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveHub]:
    """`hub serve` on a database holding a little demo data; tokens of the two callers."""
    cwd = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{cwd / 'hub.db'}"
    else:
        make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
        url = make()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_ISSUER": base}
    _hub("db", "upgrade", env=env, cwd=cwd)
    credentials = cwd / "clients.json"
    _hub("demo", "--orders", str(DEMO_ORDERS), "--credentials", str(credentials), env=env, cwd=cwd)
    clients = json.loads(credentials.read_text())["clients"]
    customs = next(c for c in clients if c["scopes"] == "customs:read pii:read")
    declarer = next(c for c in clients if c["enterprise_code"])

    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=(cwd / "serve.log").open("w"),
        text=True,
    )
    try:
        _wait_until_serving(base, process)
        tokens = {}
        for name, client in (("customs", customs), ("declarer", declarer)):
            response = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client["client_id"], client["client_secret"]),
                timeout=30,
            )
            assert response.status_code == 200, response.text
            tokens[name] = response.json()["access_token"]
        yield LiveHub(request.param, base, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def problems_in(status: int, body: Any) -> list[str]:
    """Why a response breaks the rules in the module docstring; [] when it keeps them."""
    if status >= 500:
        return [f"HTTP {status}"]
    if not isinstance(body, dict):
        return [f"HTTP {status}: the body is not a JSON object"]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL":
            found.append(f"internal error: {error.get('message')}")
        elif "path" in error and error["path"] is not None:
            if not code:
                found.append(f"execution error without a code: {error}")
        elif not code and not error.get("locations"):
            found.append(f"request error with neither a code nor locations: {error}")
        elif not code and body.get("data") is not None:
            found.append(f"uncoded request error, yet data came back: {error}")
    return found


def test_problems_in_accepts_coded_and_document_errors_only() -> None:
    """The oracle itself: each kind of answer it must pass or flag."""
    coded = {"message": "no", "path": ["order"], "extensions": {"code": "FORBIDDEN"}}
    parse = {"message": "Syntax Error", "locations": [{"line": 1, "column": 3}]}
    assert problems_in(200, {"data": {"me": None}, "errors": [coded]}) == []
    assert problems_in(400, {"data": None, "errors": [parse]}) == []
    assert problems_in(200, {"errors": [parse]}) == []
    assert problems_in(502, {"data": None}) == ["HTTP 502"]
    assert problems_in(200, "not an object")
    assert problems_in(200, {"data": None, "errors": [{"message": "boom", "path": ["x"]}]})
    assert problems_in(200, {"data": {}, "errors": [{"message": "boom"}]})
    assert problems_in(200, {"data": {"x": 1}, "errors": [parse]})
    internal = {"message": "internal error", "path": ["x"], "extensions": {"code": "INTERNAL"}}
    assert problems_in(200, {"data": None, "errors": [internal]})


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    who: str,
    headers: dict[str, str],
    sent: Counter[str],
    failures: list[str],
    backend: str,
) -> None:
    """Sends the generated cases of one operation in one mode; records what breaks the rules."""
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        response = case.call(session=session, headers=headers, timeout=60)
        sent[operation.label] += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        for problem in problems_in(response.status_code, body):
            if len(failures) < 30:
                failures.append(f"{who} {operation.label}: {problem}\n    {case.body}")

    send()


def test_generated_operations_get_no_server_error_and_only_coded_errors(
    live_hub: LiveHub,
) -> None:
    schema = schemathesis.graphql.from_url(
        f"{live_hub.base}/graphql",
        headers={"Authorization": f"Bearer {live_hub.tokens['customs']}"},
        timeout=30,
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    sent: Counter[str] = Counter()
    failures: list[str] = []

    for caller, token in live_hub.tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(
                        operation,
                        mode,
                        f"{caller} {mode.value}",
                        headers,
                        sent,
                        failures,
                        live_hub.backend,
                    )
                except unittest.SkipTest:
                    continue  # no negative case exists for an operation without arguments

    total = sum(sent.values())
    print(f"\n{total} generated operations over {len(sent)} root fields: {dict(sent)}")
    assert failures == [], "\n".join(failures)
    assert total >= MINIMUM_OPERATIONS, sent


NUL_QUERIES = (
    '{ declaration(id: "a\\u0000b") { id } }',
    '{ order(ebpCode: "X", orderNo: "a\\u0000b") { orderNo } }',
    '{ statistics(groupBy: [TRADE_MODE], filter: {tradeMode: "a\\u0000b"}) { groupBy } }',
)


@pytest.mark.parametrize("query", NUL_QUERIES)
def test_a_nul_character_in_a_string_argument_gets_no_internal_error(
    live_hub: LiveHub, query: str
) -> None:
    response = httpx.post(
        f"{live_hub.base}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {live_hub.tokens['customs']}"},
        timeout=30,
    )
    assert problems_in(response.status_code, response.json()) == []
