"""Linear-time regular expressions for the `pattern`s of published standards.

A standard's author chooses its patterns, and a record's sender chooses the text they run
on, so a backtracking engine lets one of them stall the hub with the other's help
(`^(a+)+$` against 28 characters takes seconds in Python's `re`). Every published pattern
therefore runs in an automaton engine whose time is linear in the text: RE2 (google-re2)
in the Python validator that writes the error messages, and the Rust `regex` crate in
jsonschema-rs (`RegexOptions`, never `fancy-regex`) on the hot path. Neither engine has
lookaround or backreferences; publishing refuses a pattern RE2 cannot compile
(`UNSUPPORTED_PATTERN`), so no stored standard ever needs a backtracking engine.

JSON Schema patterns are ECMA-262 regular expressions. RE2 reads nearly the same syntax;
`translate` rewrites what differs (`\\uXXXX`, `\\cX`, and `\\s`, which is Unicode
whitespace in ECMA and ASCII in RE2), so that both engines agree with each other and with
the specification (see tests/standards/test_validation.py's differential test).

`install_in_jsonschema` points the `re` that jsonschema's keyword modules use
(`patternProperties`, `additionalProperties`, `unevaluatedProperties`) at this module, so
no keyword of the reference validator reaches Python's `re` with a schema's pattern.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

__all__ = ["UnsupportedPattern", "compile", "install_in_jsonschema", "search", "translate"]

# ECMA-262 WhiteSpace and LineTerminator code points (what `\s` means there).
_ECMA_SPACE = (
    r"\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}"
    r"\x{3000}\x{FEFF}"
)
# RE2 builds an automaton within this budget; a pattern that needs more is refused at
# publish rather than allowed to take memory per request.
_MAX_MEM = 8 << 20
_HEX = frozenset("0123456789abcdefABCDEF")


class UnsupportedPattern(ValueError):
    """A pattern the linear engine cannot run (lookaround, backreference, too large...)."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # errors are reported to the caller, not to stderr
    options.max_mem = _MAX_MEM
    return options


def translate(pattern: str) -> str:
    """The RE2 spelling of an ECMA-262 pattern (same meaning)."""
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "u" and i + 5 < n and all(c in _HEX for c in pattern[i + 2 : i + 6]):
                out.append(r"\x{" + pattern[i + 2 : i + 6] + "}")
                i += 6
                continue
            if nxt == "c" and i + 2 < n and pattern[i + 2].isascii() and pattern[i + 2].isalpha():
                out.append(r"\x{%02X}" % (ord(pattern[i + 2]) % 32))
                i += 3
                continue
            if nxt == "s":
                out.append(_ECMA_SPACE if in_class else f"[{_ECMA_SPACE}]")
                i += 2
                continue
            if nxt == "S" and not in_class:
                out.append(f"[^{_ECMA_SPACE}]")
                i += 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        out.append(char)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=2048)
def compile(pattern: str) -> Any:
    """The compiled RE2 program of an ECMA pattern; UnsupportedPattern when RE2 refuses it."""
    try:
        return re2.compile(translate(pattern), _options())
    except re2.error as exc:
        raise UnsupportedPattern(_reason(exc)) from exc


def _reason(exc: Exception) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)


def search(pattern: str, string: str, flags: int = 0) -> Any:
    """`re.search` in linear time: a match object or None."""
    if flags:
        raise ValueError("flags are not supported by the linear pattern engine")
    return compile(pattern).search(string)


def check(pattern: str) -> str | None:
    """Why the linear engine cannot run `pattern`, or None when it can."""
    try:
        compile(pattern)
    except UnsupportedPattern as exc:
        return str(exc)
    return None


def refusal(pattern: str, reason: str) -> str:
    """The message refusing `pattern` for `reason` (from `check`)."""
    return (
        f"the pattern {pattern!r} cannot be run by the linear-time regex engine ({reason}); "
        "lookaround and backreferences are not supported"
    )


class _LinearRe:
    """The slice of the `re` module that jsonschema's keywords call."""

    search = staticmethod(search)
    compile = staticmethod(compile)
    error = UnsupportedPattern


def install_in_jsonschema() -> None:
    """Makes jsonschema's keyword functions search patterns with RE2 instead of `re`."""
    # jsonschema calls `re.search(pattern, key)` at module level in these modules (for
    # patternProperties, additionalProperties and unevaluatedProperties); there is no
    # option for it, so the module-level name is replaced. The `pattern` keyword itself
    # is overridden through the validator class (hub/standards/validation.py).
    from jsonschema import _keywords, _legacy_keywords, _utils

    for module in (_keywords, _legacy_keywords, _utils):
        module.re = _LinearRe


def find_patterns(schema: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Every (JSON pointer, pattern) of a schema: `pattern` values and `patternProperties` keys.

    The walk goes everywhere, data keywords (`const`, `enum`) and unknown ones included: a
    `$ref` may point into any part of a document and make what is there a subschema.
    """
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(schema, pointer)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, list):
            stack.extend((item, f"{at}/{index}") for index, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            here = f"{at}/{_escape(key)}"
            if key == "pattern" and isinstance(value, str):
                found.append((here, value))
            elif key == "patternProperties" and isinstance(value, dict):
                found.extend((f"{here}/{_escape(name)}", name) for name in value)
            stack.append((value, here))
    return sorted(found)


def _escape(token: str) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")
