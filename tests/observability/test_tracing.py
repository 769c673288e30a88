"""OpenTelemetry: one trace across HTTP, GraphQL and SQL, continuing the caller's traceparent."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from hub.app import create_app
from hub.config import Settings, SettingsError
from hub.observability.logs import JsonFormatter
from hub.observability.tracing import provider_from_env
from tests.support import TEST_ISSUER, RegisteredClient

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced_http(
    settings: Settings, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, tracer_provider=provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
            yield client


async def _token(http: httpx.AsyncClient, client: RegisteredClient) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


async def test_a_graphql_request_is_one_trace_of_http_graphql_and_sql_spans_under_the_callers(
    traced_http: httpx.AsyncClient,
    exporter: InMemorySpanExporter,
    register_client: Callable[..., Awaitable[RegisteredClient]],
) -> None:
    token = await _token(traced_http, await register_client(scopes="customs:read"))
    exporter.clear()
    response = await traced_http.post(
        "/graphql",
        json={"query": "query Registry { standards { id } }"},
        headers={"Authorization": f"Bearer {token}", "traceparent": TRACEPARENT},
    )
    assert response.status_code == 200, response.text
    spans: list[ReadableSpan] = list(exporter.get_finished_spans())
    assert spans
    assert {_hex(s.context.trace_id, 32) for s in spans} == {TRACE_ID}
    by_id = {s.context.span_id: s for s in spans}
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.parent is not None and _hex(server.parent.span_id, 16) == PARENT_ID
    [operation] = [s for s in spans if s.name == "query Registry"]
    assert operation.parent is not None and operation.parent.span_id == server.context.span_id
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Registry"
    sql = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert any("standards" in str((s.attributes or {}).get("db.statement", "")) for s in sql)

    def ancestors(span: ReadableSpan) -> Iterator[int]:
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            yield span.context.span_id

    # The SQL of the resolvers runs inside the GraphQL operation's span.
    assert all(operation.context.span_id in set(ancestors(s)) for s in sql if s.start_time and
               s.start_time >= operation.start_time)  # fmt: skip


async def test_the_request_log_line_carries_the_trace_id(
    traced_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.request"):
        await traced_http.get("/healthz", headers={"traceparent": TRACEPARENT})
    [line] = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "hub.request"
    ]
    assert line["trace_id"] == TRACE_ID
    assert len(line["span_id"]) == 16 and line["span_id"] != PARENT_ID  # the hub's own span


async def test_with_tracing_off_logs_still_carry_the_callers_trace_id(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hub.request"):
        await http.get("/healthz", headers={"traceparent": TRACEPARENT})
        await http.get("/healthz")
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "hub.request"
    ]
    assert lines[0]["trace_id"] == TRACE_ID
    assert lines[0]["span_id"] == PARENT_ID  # no span of its own: it records none
    assert "trace_id" not in lines[1]


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_off_unless_the_otel_variables_ask_for_an_exporter(
    env: dict[str, str], on: bool
) -> None:
    assert (provider_from_env(env) is not None) is on


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "not zipkin"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http/protobuf"),
    ],
)
def test_an_exporter_the_hub_does_not_ship_fails_loudly(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        provider_from_env(env)


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


async def test_spans_reach_an_otlp_collector_named_by_the_standard_variables(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "hub-under-test")
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        provider = provider_from_env(env)
        assert provider is not None
        app = create_app(settings, tracer_provider=provider)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as client:
                await client.get("/healthz", headers={"traceparent": TRACEPARENT})
        assert provider.force_flush(timeout_millis=10_000)
    finally:
        server.shutdown()
    path, content_type, body = _Collector.received[-1]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    [resource] = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "hub-under-test"
    spans = {s.name: s for scope in resource.scope_spans for s in scope.spans}
    assert spans["GET /healthz"].trace_id.hex() == TRACE_ID
    assert spans["GET /healthz"].parent_span_id.hex() == PARENT_ID
