"""One JSON log line per request, carrying a request id that is echoed to the caller."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.observability.logs import JsonFormatter
from hub.observability.metrics import HubMetrics
from hub.observability.request_log import RequestLogMiddleware

Token = Callable[..., Awaitable[str]]


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log records, formatted exactly as `hub serve` writes them."""
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name == "hub.request"]
    for line in lines:
        assert "\n" not in line
    return [json.loads(line) for line in lines]


async def test_each_request_logs_one_json_line_with_id_method_path_status_and_duration(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.get("/healthz")
    assert response.status_code == 200
    [line] = _request_lines(caplog)
    assert line["request_id"] == response.headers["x-request-id"]
    assert len(line["request_id"]) == 32
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["route"] == "/healthz"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["client_id"] is None
    assert line["level"] == "info" and line["logger"] == "hub.request"


async def test_a_sane_incoming_request_id_is_kept_logged_and_returned(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.get("/healthz", headers={"X-Request-Id": "lb-7f3a:42.x_y"})
    assert response.headers["x-request-id"] == "lb-7f3a:42.x_y"
    [line] = _request_lines(caplog)
    assert line["request_id"] == "lb-7f3a:42.x_y"


@pytest.mark.parametrize(
    "incoming", ["a b", "x" * 129, '"quoted"', "id;drop", "-leading-dash", "ünïcode"]
)
async def test_an_unsafe_incoming_request_id_is_replaced_by_a_new_one(
    http: httpx.AsyncClient, incoming: str
) -> None:
    response = await http.get("/healthz", headers={"X-Request-Id": incoming.encode("utf-8")})
    returned = response.headers["x-request-id"]
    assert returned != incoming
    assert len(returned) == 32 and all(c in "0123456789abcdef" for c in returned)


async def test_every_request_gets_its_own_generated_id(http: httpx.AsyncClient) -> None:
    ids = {(await http.get("/healthz")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


async def test_unknown_paths_are_logged_under_the_unmatched_route(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.get("/wp-admin/secret.php")
    assert response.status_code == 404
    [line] = _request_lines(caplog)
    assert (line["path"], line["route"], line["status"]) == (
        "/wp-admin/secret.php",
        "unmatched",
        404,
    )


async def test_graphql_request_log_names_the_operation_read_from_the_body(
    http: httpx.AsyncClient, get_token: Token, caplog: pytest.LogCaptureFixture
) -> None:
    token = await get_token(scopes="customs:read")
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.post(
            "/graphql",
            json={"query": "query WhoAmI { me { clientId } }", "operationName": "WhoAmI"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    # The body was read by the endpoint and by nobody else: the operation still ran.
    assert response.json()["data"]["me"]["clientId"]
    [line] = _request_lines(caplog)
    assert (line["operation_type"], line["operation_name"]) == ("query", "WhoAmI")


async def test_the_request_log_does_not_parse_a_body_the_endpoint_parsed(
    http: httpx.AsyncClient,
    get_token: Token,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.observability import request_log

    parsed: list[int] = []
    original = request_log._BodyTap.json

    def counting(self: Any) -> Any:
        parsed.append(1)
        return original(self)

    monkeypatch.setattr(request_log._BodyTap, "json", counting)
    token = await get_token(scopes="customs:read")
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.post(
            "/graphql",
            json={"query": "query WhoAmI { me { clientId } }", "operationName": "WhoAmI"},
            headers={"Authorization": f"Bearer {token}"},
        )
        refused = await http.post(  # refused before anyone reads the body
            "/graphql",
            json={"query": "query Early { me { clientId } }", "operationName": "Early"},
        )
    assert response.status_code == 200 and refused.status_code == 401
    first, second = _request_lines(caplog)
    assert first["operation_name"] == "WhoAmI" and "operation_name" not in second
    assert parsed == [1]  # the log looked at its own copy only for the refused request


async def test_graphql_request_log_carries_the_client_id_the_endpoint_stored(
    http: httpx.AsyncClient, get_token: Token, caplog: pytest.LogCaptureFixture
) -> None:
    token = await get_token(scopes="customs:read")
    with caplog.at_level(logging.INFO, logger="hub.request"):
        response = await http.post(
            "/graphql",
            json={"query": "{ me { clientId } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    client_id = response.json()["data"]["me"]["clientId"]
    [line] = _request_lines(caplog)
    assert line["client_id"] == client_id


async def _stores_client(request: Request) -> Response:
    # What the GraphQL endpoint does once it has verified a token.
    request.state.client_id = "hub_client_1"
    body = await request.json()
    return JSONResponse({"echo": body["query"]})


async def _fails(request: Request) -> Response:
    raise RuntimeError("boom")


async def test_middleware_logs_the_client_id_an_endpoint_stores_in_request_state(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=[Route("/graphql", _stores_client, methods=["POST"])])
    wrapped = RequestLogMiddleware(app, registry=HubMetrics())
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.INFO, logger="hub.request"):
            response = await client.post("/graphql", json={"query": "mutation Go { x }"})
    assert response.json() == {"echo": "mutation Go { x }"}
    [line] = _request_lines(caplog)
    assert line["client_id"] == "hub_client_1"
    assert (line["operation_type"], line["operation_name"]) == ("mutation", "Go")


async def test_a_crashing_endpoint_is_logged_and_counted_as_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = HubMetrics()
    app = Starlette(routes=[Route("/boom", _fails)])
    wrapped = RequestLogMiddleware(app, registry=registry)
    with caplog.at_level(logging.INFO, logger="hub.request"), pytest.raises(RuntimeError):
        await wrapped(
            {"type": "http", "method": "GET", "path": "/boom", "headers": [], "query_string": b""},
            _no_body,
            _discard,
        )
    [line] = _request_lines(caplog)
    assert line["status"] == 500
    assert (
        registry.sample("hub_http_requests_total", method="GET", route="/boom", status="500") == 1
    )


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Any) -> None:
    return None


async def test_a_large_body_is_not_parsed_but_still_reaches_the_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Starlette(routes=[Route("/graphql", _stores_client, methods=["POST"])])
    wrapped = RequestLogMiddleware(app, registry=HubMetrics())
    transport = httpx.ASGITransport(app=wrapped)
    big = {"query": "query Big { x }", "variables": {"pad": "x" * (2 * 1024 * 1024)}}
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.INFO, logger="hub.request"):
            response = await client.post("/graphql", json=big)
    assert response.json() == {"echo": "query Big { x }"}
    [line] = _request_lines(caplog)
    assert "operation_name" not in line


async def test_a_pathologically_nested_body_is_logged_without_an_operation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def echo_size(request: Request) -> Response:
        return JSONResponse({"size": len(await request.body())})

    app = Starlette(routes=[Route("/graphql", echo_size, methods=["POST"])])
    wrapped = RequestLogMiddleware(app, registry=HubMetrics())
    transport = httpx.ASGITransport(app=wrapped)
    nested = b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.INFO, logger="hub.request"):
            response = await client.post(
                "/graphql", content=nested, headers={"Content-Type": "application/json"}
            )
    assert response.json() == {"size": len(nested)}
    [line] = _request_lines(caplog)
    assert line["status"] == 200 and "operation_name" not in line
