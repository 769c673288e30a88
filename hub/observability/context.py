"""The request id of the request being served, visible to every log record it causes."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

# asyncio copies the context into every task it starts, so resolvers running as separate
# tasks (strawberry resolves sibling fields concurrently) still see their request's id.
request_id_var: ContextVar[str | None] = ContextVar("hub_request_id", default=None)

# An incoming id is echoed into logs and a response header: accept only a short token of
# safe characters, so a caller cannot forge log lines or inject header content.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def current_request_id() -> str | None:
    """The id of the request this code runs for, or None outside a request."""
    return request_id_var.get()


def accept_or_generate(incoming: str | None) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new random id."""
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex
