"""OpenTelemetry tracing: HTTP server spans, a GraphQL span per operation, SQL spans.

Off by default. It is on when the standard variables ask for an exporter:
`OTEL_TRACES_EXPORTER=otlp` (or `console`), or an `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` turns it off again. The
exporter, sampler and resource read the rest of the `OTEL_*` variables themselves
(`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, headers, ...).

Whether on or off, an incoming W3C `traceparent` is honoured: with tracing on the hub's
spans are its children; with tracing off the caller's trace id is still put on every log
line of the request, so one id finds the request across systems.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.config import SettingsError

TRACER_NAME = "hub"
EXPORTERS = ("otlp", "console", "none")


def _wanted_exporters(env: Mapping[str, str]) -> list[str]:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    raw = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not raw:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown:
        raise SettingsError(
            f"OTEL_TRACES_EXPORTER={raw!r}: the hub ships the otlp (http/protobuf) and "
            f"console exporters, not {', '.join(unknown)}"
        )
    return [n for n in names if n != "none"]


def _exporter(name: str, env: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise SettingsError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: the hub exports OTLP over "
            "http/protobuf (port 4318 on a collector)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: from OTEL_EXPORTER_OTLP_*


def provider_from_env(env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """A tracer provider exporting as the OTEL_* variables say, or None when tracing is off."""
    environ = os.environ if env is None else env
    names = _wanted_exporters(environ)
    if not names:
        return None
    if env is None:
        return _process_provider(tuple(names))
    return _build([_exporter(name, environ) for name in names])


def _build(exporters: list[SpanExporter]) -> TracerProvider:
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "hub"}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@lru_cache(maxsize=1)
def _process_provider(names: tuple[str, ...]) -> TracerProvider:
    # One provider (one export queue and thread) per process, however many apps it builds.
    return _build([_exporter(name, os.environ) for name in names])


def tracer_of(provider: TracerProvider | None) -> Tracer:
    """The hub's tracer on `provider`; a no-op tracer when tracing is off."""
    if provider is None:
        return trace.NoOpTracer()
    return provider.get_tracer(TRACER_NAME)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Puts a span around every SQL statement the engine runs (text, no parameter values)."""
    usage = (
        NoOpMeterProvider()
        .get_meter(TRACER_NAME)
        .create_up_down_counter("db.client.connections.usage")
    )
    EngineTracer(tracer_of(provider), engine.sync_engine, usage)


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    # Named by method and route family, not the raw path: paths carry ids and typos.
    first = "/" + scope.get("path", "/").lstrip("/").split("/", 1)[0]
    return f"{scope.get('method', 'HTTP')} {first}", {}


def http_middleware(app: ASGIApp, provider: TracerProvider | None) -> ASGIApp:
    """The outermost layer: a server span per request, or just the caller's trace context."""
    if provider is None:
        return TraceContextMiddleware(app)
    return OpenTelemetryMiddleware(
        app,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        default_span_details=_span_details,
        exclude_spans=["receive", "send"],
    )


class TraceContextMiddleware:
    """Makes an incoming `traceparent` the current context, without recording spans."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key in (b"traceparent", b"tracestate")
        }
        if not carrier:
            await self.app(scope, receive, send)
            return
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)


def current_ids() -> tuple[str | None, str | None]:
    """The current trace id and span id as hex, or (None, None) outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    """Adds `traceparent` (and `tracestate`) of the current trace to outgoing headers."""
    propagate.inject(headers)
    return headers
