"""The JSON bodies of refusals made below GraphQL (413, 429, 503): one shape per endpoint kind."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Scope, Send

# OAuth2 endpoints answer in RFC 6749's error shape, everything else in GraphQL's, so a
# client's existing error handling understands the refusal.
_OAUTH_PREFIX = "/oauth/"
_OAUTH_ERRORS = {413: "invalid_request", 429: "slow_down", 503: "temporarily_unavailable"}


def error_body(*, path: str, status: int, code: str, message: str) -> dict[str, object]:
    """The JSON refusal for a request to `path`: OAuth2 style or GraphQL style."""
    if path.startswith(_OAUTH_PREFIX):
        return {
            "error": _OAUTH_ERRORS.get(status, "invalid_request"),
            "error_description": message,
            "code": code,
        }
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


async def send_error(
    scope: Scope,
    send: Send,
    *,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Sends a complete JSON error response on a raw ASGI channel."""
    body = json.dumps(
        error_body(path=scope.get("path", ""), status=status, code=code, message=message)
    ).encode()
    raw_headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
