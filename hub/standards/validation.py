"""Compiling standards into validators: a fast accept/reject path and a readable error list.

`jsonschema_rs` (Rust) answers `is_valid` on the hot path; the reference `jsonschema` library
produces the error list, because its errors carry the schema context we turn into messages.
References are resolved only against the resources the caller hands in: nothing is fetched.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from hub.standards import patterns
from hub.standards.formats import FORMAT_CHECKERS
from hub.standards.refs import UnresolvableReference, find_refs, inline_refs, ref_closure

__all__ = [
    "DRAFT_2020_12",
    "INTERNAL_BASE",
    "CompiledValidator",
    "SchemaCompileError",
    "UnresolvableReference",
    "ValidationIssue",
    "check_schema",
    "clear_cache",
    "compile_validator",
    "find_refs",
    "schema_uri",
]

INTERNAL_BASE = "https://hub.invalid/standards"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
_CACHE_SIZE = 256
_MESSAGE_VALUE_CHARS = 40


def schema_uri(standard_id: str, version: str) -> str:
    """Return the internal URI under which a standard version is compiled and referenced."""
    return f"{INTERNAL_BASE}/{standard_id}/{version}"


class SchemaCompileError(ValueError):
    """A schema cannot be turned into a validator (bad ref, bad regex, wrong draft...)."""


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One reason a record was rejected: where (JSON pointer), which keyword, and why."""

    path: str
    keyword: str
    message: str


# -- the reference validator (error lists) ------------------------------------------------


def _pattern_keyword(
    validator: Any, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # RE2, never `re`: the message below is built for records the sender chose, against a
    # pattern the standard's author chose (hub/standards/patterns.py).
    if isinstance(instance, str) and patterns.search(pattern, instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_HubValidator = validators.extend(Draft202012Validator, {"pattern": _pattern_keyword})
patterns.install_in_jsonschema()

_FORMAT_CHECKER = FormatChecker()
for _name, _check in FORMAT_CHECKERS.items():
    _FORMAT_CHECKER.checks(_name)(_check)


def _refuse_python(uri: str) -> Resource[Any]:
    # Reached only if a ref slipped past ref_closure; still never goes to the network.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs field; stubs lag


def _refuse_rust(uri: str) -> Any:
    raise UnresolvableReference(f"{uri} is not a published standard and is never fetched")


# -- compiled validators --------------------------------------------------------------------


class CompiledValidator:
    """A standard version compiled once, validating many records."""

    __slots__ = ("_python", "_rust", "schema", "uri")

    def __init__(self, *, uri: str, schema: dict[str, Any], rust: Any, python: Any) -> None:
        self.uri = uri
        self.schema = schema
        self._rust = rust
        self._python = python

    def is_valid(self, instance: object) -> bool:
        """Tell whether the instance is valid, as fast as possible (no error details)."""
        return self._rust.is_valid(instance)

    def __repr__(self) -> str:
        return f"CompiledValidator({self.uri!r})"

    def errors(self, instance: object, *, limit: int = 100) -> list[ValidationIssue]:
        """Return every reason the instance is invalid (at most `limit`), [] if it is valid."""
        if self._rust.is_valid(instance):
            return []
        try:
            issues = self._python_issues(instance, limit=limit)
        except RecursionError:
            # The reference validator recurses a dozen frames per level of a recursive
            # schema; a record deep enough exhausts the stack. It is still refused.
            issues = [ValidationIssue("", "schema", "does not conform to the standard")]
        # The differential test keeps both engines in agreement; should they ever differ,
        # the record is still refused, never accepted for want of a message.
        return issues or [ValidationIssue("", "schema", "does not conform to the standard")]

    def _python_issues(self, instance: object, *, limit: int) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        seen: set[ValidationIssue] = set()
        for error in self._python.iter_errors(instance):
            for leaf in _leaves(error):
                for issue in _issues(leaf, root=self.schema):
                    if issue not in seen:
                        seen.add(issue)
                        issues.append(issue)
                        if len(issues) >= limit:
                            return issues
        return issues


def compile_validator(
    *, schema: dict[str, Any], uri: str, resources: Mapping[str, dict[str, Any]]
) -> CompiledValidator:
    """Compile a schema whose refs resolve only within `resources`; cached by content."""
    declared = schema.get("$schema", DRAFT_2020_12)
    if declared.rstrip("#") != DRAFT_2020_12:
        raise SchemaCompileError(f"{uri}: standards use JSON Schema 2020-12, not {declared!r}")
    try:
        closure = ref_closure(schema=schema, uri=uri, resources=resources)
    except UnresolvableReference as exc:
        raise SchemaCompileError(f"{uri}: {exc}") from exc
    key = (uri, closure.fingerprint)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    compiled = _compile(schema=schema, uri=uri, closure=closure.documents)
    with _CACHE_LOCK:
        _CACHE[key] = compiled
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return compiled


def clear_cache() -> None:
    """Forget every compiled validator (tests, or after unpublishing a draft)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def check_schema(schema: object) -> list[ValidationIssue]:
    """Meta-validate a schema against JSON Schema 2020-12; [] means it is a valid schema."""
    # A pure function of the schema's JSON, and a slow one for the customs standards (tens of
    # milliseconds): every draft, check and publish of the same document asks again.
    try:
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return _meta_issues(schema)
    return list(_meta_issues_of_text(text))


@lru_cache(maxsize=256)
def _meta_issues_of_text(text: str) -> tuple[ValidationIssue, ...]:
    return tuple(_meta_issues(json.loads(text)))


def _meta_issues(schema: object) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if isinstance(schema, dict) and schema.get("$schema", DRAFT_2020_12).rstrip("#") != (
        DRAFT_2020_12
    ):
        issues.append(
            ValidationIssue("/$schema", "const", f"standards must declare {DRAFT_2020_12!r}")
        )
    for error in _META_VALIDATOR.iter_errors(schema):
        for leaf in _leaves(error):
            issues.extend(_issues(leaf, root=Draft202012Validator.META_SCHEMA))
    return issues


_CACHE: OrderedDict[tuple[str, str], CompiledValidator] = OrderedDict()
_CACHE_LOCK = threading.Lock()
# The meta-schema's `format: regex` asks whether a schema's pattern is a regular
# expression: the linear engine that will run it answers, not Python's `re`.
_META_FORMAT_CHECKER = FormatChecker()
_META_FORMAT_CHECKER.checkers = {
    **Draft202012Validator.FORMAT_CHECKER.checkers,
    "regex": (lambda value: not isinstance(value, str) or patterns.check(value) is None, ()),
}
_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=_META_FORMAT_CHECKER
)


def _compile(
    *, schema: dict[str, Any], uri: str, closure: Mapping[str, object]
) -> CompiledValidator:
    # The root gets its internal URI as `$id` so relative and absolute-path refs resolve
    # the same way in both libraries.
    root = {**schema, "$id": uri}
    for document_uri, document in {uri: schema, **closure}.items():
        for pointer, pattern in patterns.find_patterns(document):
            reason = patterns.check(pattern)
            if reason is not None:
                raise SchemaCompileError(
                    f"{document_uri}#{pointer}: {patterns.refusal(pattern, reason)}"
                )
    try:
        rust_registry = jsonschema_rs.Registry(
            list(closure.items()),  # type: ignore[arg-type]  # JSON documents
            draft=jsonschema_rs.Draft202012,
            retriever=_refuse_rust,
        )
        rust = jsonschema_rs.validator_for(
            root,
            registry=rust_registry,
            retriever=_refuse_rust,
            base_uri=uri,
            formats=FORMAT_CHECKERS,
            validate_formats=True,
            # The `regex` crate (linear time), not the default backtracking fancy-regex.
            pattern_options=jsonschema_rs.RegexOptions(),
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        raise SchemaCompileError(f"{uri}: cannot compile: {exc}".split("\n\n")[0]) from exc
    empty: Registry[Any] = Registry(retrieve=_refuse_python)  # type: ignore[call-arg]
    python_registry = empty.with_resources(
        (doc_uri, DRAFT202012.create_resource(contents)) for doc_uri, contents in closure.items()
    )
    inlined = inline_refs(schema=schema, uri=uri, documents=closure)
    python = _HubValidator(
        root if inlined is None else {**inlined, "$id": uri},
        registry=python_registry,
        format_checker=_FORMAT_CHECKER,
    )
    return CompiledValidator(uri=uri, schema=root, rust=rust, python=python)


# -- turning jsonschema errors into issues --------------------------------------------------


def _leaves(error: ValidationError) -> list[ValidationError]:
    """Replace an anyOf/oneOf failure by the errors of the branch that came closest."""
    if not error.context:
        return [error]
    best = best_match([error])
    if best is None or best is error:
        # No branch stands out (e.g. a value outside several ranges): the parent says it best.
        return [error]
    branch = best
    while branch.parent is not None and branch.parent is not error:
        branch = branch.parent
    index = branch.relative_schema_path[0]
    chosen = [e for e in error.context if e.relative_schema_path[0] == index]
    return [leaf for e in chosen for leaf in _leaves(e)]


def _pointer(parts: Iterable[object]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _MESSAGE_VALUE_CHARS:
        text = text[: _MESSAGE_VALUE_CHARS - 3] + "..."
    return text


def _issues(error: ValidationError, *, root: Mapping[str, Any]) -> list[ValidationIssue]:
    keyword = str(error.validator)
    path = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance
    title = _conditional_title(root, error.absolute_schema_path)
    suffix = f" for {title}" if title else ""
    description = schema.get("description")

    if keyword == "required" and isinstance(instance, dict):
        return [
            ValidationIssue(f"{path}/{_pointer([name])[1:]}", keyword, f"is required{suffix}")
            for name in error.validator_value
            if name not in instance
        ]
    if (
        keyword == "additionalProperties"
        and isinstance(instance, dict)
        and "patternProperties" not in schema
    ):
        known = schema.get("properties", {})
        return [
            ValidationIssue(f"{path}/{_pointer([name])[1:]}", keyword, "not an allowed field")
            for name in instance
            if name not in known
        ]
    return [ValidationIssue(path, keyword, _message(error, description) + suffix)]


def _conditional_title(root: Mapping[str, Any], schema_path: Iterable[object]) -> str | None:
    """Return the title of the innermost `then`/`else` branch the error came from, if any.

    Standards title their conditional branches ("bonded trade modes (1210/1239)") so an
    error can say which rule demanded it. The walk stops at a `$ref`: past it the path
    continues inside another document.
    """
    node: Any = root
    title: str | None = None
    for key in schema_path:
        if key == "$ref":
            break
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if key in ("then", "else") and isinstance(node, Mapping):
            candidate = node.get("title")
            title = candidate if isinstance(candidate, str) else title
    return title


def _message(error: ValidationError, description: object) -> str:
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    if isinstance(description, str) and keyword in ("format", "pattern", "anyOf", "oneOf"):
        return f"{_short(instance)} is not {description}"
    if keyword == "format":
        return f"{_short(instance)} is not a valid {value}"
    if keyword == "type":
        expected = " or ".join(value) if isinstance(value, list) else value
        return f"{_short(instance)} is not of type {expected}"
    if keyword == "enum":
        return f"{_short(instance)} is not one of {_short(value)}"
    if keyword == "const":
        return f"{_short(instance)} should be {_short(value)}"
    if keyword in ("minItems", "maxItems") and isinstance(instance, list):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"has {len(instance)} items, {bound} {value} allowed"
    if keyword in ("minLength", "maxLength") and isinstance(instance, str):
        bound = "at least" if keyword == "minLength" else "at most"
        return f"is {len(instance)} characters long, {bound} {value} allowed"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[keyword]
        return f"{_short(instance)} should be {relation} {value}"
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."
