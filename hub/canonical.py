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


# The deepest nesting of objects and arrays a stored record may have. The shipped standards
# nest four levels; every walker of a record (hashing, validation messages, masking,
# exports) recurses, and Python's recursion limit is about 1,000 frames.
MAX_DEPTH = 64


def nesting_depth(value: Any, *, stop_at: int = MAX_DEPTH + 1) -> int:
    """How deeply objects and arrays nest in `value` (a scalar: 0), counted up to `stop_at`.

    Iterative, so that measuring a hostile value cannot itself exhaust the stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest >= stop_at:
                return deepest
            items = current.values() if isinstance(current, dict) else current
            stack.extend((item, depth) for item in items)
    return deepest


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
