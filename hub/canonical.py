"""Canonical JSON and its SHA-256: the one definition of "the same content"."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Serialises with sorted keys, no insignificant whitespace, UTF-8 (not \\u escapes)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of a value."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def _unstorable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_unstorable_text(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first string (or key) holding NUL or a lone surrogate.

    Neither can be stored faithfully (PostgreSQL refuses NUL in text; a lone surrogate
    has no UTF-8 form, so it cannot be hashed canonically): such input is refused.
    """
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        current, at = stack.pop()
        if isinstance(current, str):
            if _unstorable(current):
                return at
        elif isinstance(current, dict):
            for key, item in current.items():
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str) and _unstorable(key):
                    # The pointer itself must be printable: show the bad code point escaped.
                    shown = escaped.encode("utf-8", "backslashreplace").decode("utf-8")
                    return at + "/" + shown.replace("\x00", "\\u0000")
                stack.append((item, f"{at}/{escaped}"))
        elif isinstance(current, list):
            stack.extend((item, f"{at}/{index}") for index, item in enumerate(current))
    return None
