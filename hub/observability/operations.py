"""Which GraphQL operation a request asks for, read cheaply from its document text.

A full parse would duplicate strawberry's work; logs and metrics need only the type and
name of the operation, which sit at the top level of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATION_TYPES = ("query", "mutation", "subscription")
MAX_SCANNED = 100_000  # characters; a longer document is described as unknown
MAX_NAME = 128
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


@dataclass(frozen=True)
class Operation:
    """The operation's type (query, mutation, subscription, or None when unknown) and name."""

    type: str | None
    name: str | None


def _skip_string(document: str, i: int) -> int:
    """The index just past the string literal starting at i."""
    if document.startswith('"""', i):
        end = i + 3
        while True:
            end = document.find('"""', end)
            if end == -1:
                return len(document)
            if document[end - 1] != "\\":
                return end + 3
            end += 3
    end = i + 1
    while end < len(document):
        if document[end] == "\\":
            end += 2
            continue
        if document[end] in '"\n':
            return end + 1
        end += 1
    return end


def top_level_operations(document: str) -> list[Operation]:
    """The operation definitions of a document, in order (fragments are skipped)."""
    operations: list[Operation] = []
    words: list[str] = []  # top-level names since the last definition's selection set
    depth = parens = 0
    i, n = 0, len(document)
    while i < n:
        char = document[i]
        if char == "#":
            end = document.find("\n", i)
            i = n if end == -1 else end
            continue
        if char == '"':
            i = _skip_string(document, i)
            continue
        if char == "(":
            parens += 1
        elif char == ")":
            parens -= 1
        elif char == "{":
            if depth == 0 and parens == 0:
                if not words:
                    operations.append(Operation("query", None))  # the `{ ... }` shorthand
                elif words[0] in OPERATION_TYPES:
                    operations.append(Operation(words[0], words[1] if len(words) > 1 else None))
                words = []
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "@":
            # A directive's name is not the operation's: skip it.
            match = _NAME.match(document, i + 1)
            i = match.end() if match else i + 1
            continue
        elif depth == 0 and parens == 0:
            match = _NAME.match(document, i)
            if match:
                words.append(match.group())
                i = match.end()
                continue
        i += 1
    return operations


def describe(document: str | None, operation_name: str | None) -> Operation:
    """The operation a request would run: the named one, or the document's only one."""
    name = operation_name[:MAX_NAME] if isinstance(operation_name, str) else None
    if not isinstance(document, str) or len(document) > MAX_SCANNED:
        return Operation(None, name)
    operations = top_level_operations(document)
    if name:
        for operation in operations:
            if operation.name == name:
                return operation
        return Operation(None, name)
    if len(operations) == 1:
        return operations[0]
    return Operation(None, None)
