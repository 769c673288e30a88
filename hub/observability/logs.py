"""Log formatting: one JSON object per line (or readable text), each with its request id."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from hub.observability.context import current_request_id
from hub.observability.tracing import current_ids

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

# Structured fields travel on the record under this attribute (`extra={FIELDS: {...}}`), so
# the JSON formatter can put them at the top level and the text formatter can ignore them.
FIELDS = "hub_fields"

_BASE_KEYS = frozenset(
    {"ts", "level", "logger", "message", "request_id", "trace_id", "span_id", "exc_info"}
)
_stamp_installed = False


def install_request_id_stamp() -> None:
    """Makes every log record carry the current request id from the moment it is created.

    Formatting may happen later or elsewhere (a queue handler, pytest's capture), when the
    request's context is gone; a stamp taken at creation survives that. Idempotent.
    """
    global _stamp_installed
    if _stamp_installed:
        return
    make_record = logging.getLogRecordFactory()

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "trace_id"):
            record.trace_id, record.span_id = current_ids()
        return record

    logging.setLogRecordFactory(stamped)
    _stamp_installed = True


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ts, level, logger, message, request_id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            # OpenTelemetry's ids (W3C trace context), so a log line joins its trace.
            document["trace_id"] = trace_id
            document["span_id"] = getattr(record, "span_id", None)
        for key, value in (getattr(record, FIELDS, None) or {}).items():
            # A field never overwrites the envelope: consumers rely on its meaning.
            if key not in _BASE_KEYS:
                document[key] = value
        if record.exc_info:
            # The traceback stays inside the one line (as an escaped string), so a log
            # shipper never splits one event into many.
            document["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exc_info"] = record.exc_text
        return json.dumps(document, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the request id in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(request_tag)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or current_request_id()
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().format(record)


def default_format(*, stderr_is_tty: bool) -> LogFormat:
    """Text for a person at a terminal, JSON for whatever collects the output otherwise."""
    return "text" if stderr_is_tty else "json"


def logging_config(*, log_format: LogFormat, level: str) -> dict[str, Any]:
    """A logging.config.dictConfig document for the hub and uvicorn.

    uvicorn applies it in the supervisor and again in every worker process it spawns, so
    workers log the same way as a single process does.
    """
    formatter = "hub.observability.logs.JsonFormatter"
    if log_format == "text":
        formatter = "hub.observability.logs.TextFormatter"
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "hub",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            # uvicorn's loggers get the same handler and stop there instead of reaching
            # the root handler a second time.
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }
