"""`hub serve --log-format`: JSON or text lines for the hub and uvicorn, in every worker."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import sys
from collections.abc import Iterator

import pytest

from hub.cli import build_parser
from hub.observability.context import request_id_var
from hub.observability.logs import (
    FIELDS,
    JsonFormatter,
    TextFormatter,
    default_format,
    logging_config,
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undoes dictConfig's changes to the root and uvicorn loggers after the test."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {
        n: (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_json_config_writes_one_parsable_line_per_record_with_fields_at_top_level(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.config.dictConfig(logging_config(log_format="json", level="info"))
    token = request_id_var.set("req-1")
    try:
        logging.getLogger("hub.request").info("GET / 200", extra={FIELDS: {"status": 200}})
        try:
            raise ValueError("multi\nline")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("failed")
        logging.getLogger("hub.debugging").debug("not at info level")
    finally:
        request_id_var.reset(token)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert (first["message"], first["status"], first["request_id"]) == ("GET / 200", 200, "req-1")
    assert second["logger"] == "uvicorn.error" and "multi\\nline" in lines[1]


def test_text_config_writes_readable_lines_with_the_request_id(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logging.config.dictConfig(logging_config(log_format="text", level="info"))
    token = request_id_var.set("req-2")
    try:
        logging.getLogger("hub.request").info("GET / 200")
    finally:
        request_id_var.reset(token)
    assert stream.getvalue().rstrip().endswith("INFO    hub.request [req-2] GET / 200")


def test_fields_never_overwrite_the_envelope() -> None:
    record = logging.LogRecord("hub.x", logging.INFO, __file__, 1, "real", None, None)
    setattr(record, FIELDS, {"message": "forged", "level": "debug", "extra": 1})
    document = json.loads(JsonFormatter().format(record))
    assert (document["message"], document["level"], document["extra"]) == ("real", "info", 1)
    assert TextFormatter().format(record).endswith("hub.x real")


def test_log_format_defaults_to_text_on_a_terminal_and_json_otherwise() -> None:
    assert default_format(stderr_is_tty=True) == "text"
    assert default_format(stderr_is_tty=False) == "json"


def test_serve_accepts_a_log_format_and_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--log-format", "text"]).log_format == "text"
    assert parser.parse_args(["serve"]).log_format is None  # decided from the terminal
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--log-format", "xml"])
