"""Application log records carry the id of the request that caused them."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from hub.graphql import me
from hub.observability.logs import JsonFormatter, TextFormatter

Token = Callable[..., Awaitable[str]]


def _explode(**_: Any) -> Any:
    raise RuntimeError("database on fire")


async def test_masked_internal_error_log_is_one_json_line_with_the_request_id(
    http: httpx.AsyncClient,
    get_token: Token,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = await get_token(scopes="customs:read")
    monkeypatch.setattr(me, "Me", _explode)  # the `me` resolver now hits a bug
    with caplog.at_level(logging.INFO):
        response = await http.post(
            "/graphql",
            json={"query": "{ me { clientId } }"},
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "trace-123"},
        )
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    [record] = [r for r in caplog.records if r.getMessage().startswith("internal error")]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert document["request_id"] == "trace-123"
    assert document["level"] == "error"
    assert error_id in document["message"]
    assert "database on fire" in document["exc_info"]


def test_records_outside_a_request_have_no_request_id() -> None:
    record = logging.LogRecord("hub.test", logging.INFO, __file__, 1, "started", None, None)
    assert json.loads(JsonFormatter().format(record))["request_id"] is None
    assert "[" not in TextFormatter().format(record)
