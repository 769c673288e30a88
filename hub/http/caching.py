"""HTTP validators: entity tags and `If-None-Match` (RFC 9110 §8.8.3 and §13.1.2)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from starlette.responses import Response


def strong_etag(body: bytes) -> str:
    """A strong entity tag for exactly these bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names this tag (weak comparison) or is `*`: answer 304."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(candidate) == wanted for candidate in if_none_match.split(","))


def not_modified(headers: Mapping[str, str]) -> Response:
    """A 304 carrying the validators and caching headers the 200 would have carried."""
    kept = {
        name: value
        for name, value in headers.items()
        if name.lower() not in ("content-type", "content-length")
    }
    return Response(status_code=304, headers=kept)
