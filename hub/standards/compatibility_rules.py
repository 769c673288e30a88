"""The vocabulary of the compatibility checker and the keyword rules that need no recursion.

A `Change` carries two flags: `backward` (the new schema accepts every instance the old one
accepted) and `forward` (the old schema accepts every instance the new one accepts). Each rule
is a sufficient condition: a flag is True only when the rule proves the inclusion, so a
"compatible" verdict can be trusted and a case the checker cannot decide is reported as
incompatible, with the reason in the message. A schema is a conjunction of keyword groups, so
changes proven harmless group by group are harmless for the whole schema.

The recursive walk (subschemas, `$ref`, composition) lives in `hub.standards.compatibility`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any
from urllib.parse import unquote, urljoin

from hub.standards import patterns

__all__ = [
    "ASSERTIONS",
    "FORMAT_SUBSETS",
    "IN_PLACE",
    "Change",
    "ChangeKind",
    "Resolve",
    "SchemaNode",
    "accepted_types",
    "allowed_values",
    "asserts",
    "canon",
    "change",
    "describe",
    "effect",
    "false_changes",
    "flat_changes",
    "governing",
    "info",
    "is_false",
    "lookup",
    "matches",
    "property_message",
    "scope",
    "target_id",
    "unevaluated_changes",
]

# Returns the schema document for an absolute `$ref` target (the part before '#');
# raises LookupError (e.g. KeyError) when it does not know the URI.
Resolve = Callable[[str], Any]


class ChangeKind(enum.StrEnum):
    """What changed between two versions of a schema, at one place."""

    SCHEMA_CHANGED = "SCHEMA_CHANGED"  # a boolean schema (`true`/`false`) on one side
    TITLE_CHANGED = "TITLE_CHANGED"
    DESCRIPTION_CHANGED = "DESCRIPTION_CHANGED"
    ANNOTATION_CHANGED = "ANNOTATION_CHANGED"
    UNKNOWN_KEYWORD_CHANGED = "UNKNOWN_KEYWORD_CHANGED"  # ignored by 2020-12 validators
    UNSUPPORTED_KEYWORD = "UNSUPPORTED_KEYWORD"  # the checker cannot reason about it
    TYPE_WIDENED = "TYPE_WIDENED"
    TYPE_NARROWED = "TYPE_NARROWED"
    TYPE_CHANGED = "TYPE_CHANGED"
    ENUM_ADDED = "ENUM_ADDED"
    ENUM_REMOVED = "ENUM_REMOVED"
    ENUM_VALUES_ADDED = "ENUM_VALUES_ADDED"
    ENUM_VALUES_REMOVED = "ENUM_VALUES_REMOVED"
    CONST_ADDED = "CONST_ADDED"
    CONST_REMOVED = "CONST_REMOVED"
    CONST_CHANGED = "CONST_CHANGED"
    MINIMUM_RELAXED = "MINIMUM_RELAXED"
    MINIMUM_TIGHTENED = "MINIMUM_TIGHTENED"
    MAXIMUM_RELAXED = "MAXIMUM_RELAXED"
    MAXIMUM_TIGHTENED = "MAXIMUM_TIGHTENED"
    MULTIPLE_OF_CHANGED = "MULTIPLE_OF_CHANGED"
    MIN_LENGTH_RELAXED = "MIN_LENGTH_RELAXED"
    MIN_LENGTH_TIGHTENED = "MIN_LENGTH_TIGHTENED"
    MAX_LENGTH_RELAXED = "MAX_LENGTH_RELAXED"
    MAX_LENGTH_TIGHTENED = "MAX_LENGTH_TIGHTENED"
    PATTERN_ADDED = "PATTERN_ADDED"
    PATTERN_REMOVED = "PATTERN_REMOVED"
    PATTERN_CHANGED = "PATTERN_CHANGED"
    FORMAT_ADDED = "FORMAT_ADDED"
    FORMAT_REMOVED = "FORMAT_REMOVED"
    FORMAT_CHANGED = "FORMAT_CHANGED"
    ITEMS_CHANGED = "ITEMS_CHANGED"
    PREFIX_ITEMS_CHANGED = "PREFIX_ITEMS_CHANGED"
    MIN_ITEMS_RELAXED = "MIN_ITEMS_RELAXED"
    MIN_ITEMS_TIGHTENED = "MIN_ITEMS_TIGHTENED"
    MAX_ITEMS_RELAXED = "MAX_ITEMS_RELAXED"
    MAX_ITEMS_TIGHTENED = "MAX_ITEMS_TIGHTENED"
    UNIQUE_ITEMS_ADDED = "UNIQUE_ITEMS_ADDED"
    UNIQUE_ITEMS_REMOVED = "UNIQUE_ITEMS_REMOVED"
    CONTAINS_CHANGED = "CONTAINS_CHANGED"
    PROPERTY_ADDED = "PROPERTY_ADDED"
    PROPERTY_REMOVED = "PROPERTY_REMOVED"
    REQUIRED_ADDED = "REQUIRED_ADDED"
    REQUIRED_REMOVED = "REQUIRED_REMOVED"
    ADDITIONAL_PROPERTIES_NARROWED = "ADDITIONAL_PROPERTIES_NARROWED"
    ADDITIONAL_PROPERTIES_WIDENED = "ADDITIONAL_PROPERTIES_WIDENED"
    ADDITIONAL_PROPERTIES_CHANGED = "ADDITIONAL_PROPERTIES_CHANGED"
    PATTERN_PROPERTIES_CHANGED = "PATTERN_PROPERTIES_CHANGED"
    PROPERTY_NAMES_CHANGED = "PROPERTY_NAMES_CHANGED"
    MIN_PROPERTIES_RELAXED = "MIN_PROPERTIES_RELAXED"
    MIN_PROPERTIES_TIGHTENED = "MIN_PROPERTIES_TIGHTENED"
    MAX_PROPERTIES_RELAXED = "MAX_PROPERTIES_RELAXED"
    MAX_PROPERTIES_TIGHTENED = "MAX_PROPERTIES_TIGHTENED"
    DEPENDENT_REQUIRED_CHANGED = "DEPENDENT_REQUIRED_CHANGED"
    DEPENDENT_SCHEMAS_CHANGED = "DEPENDENT_SCHEMAS_CHANGED"
    COMPOSITION_CHANGED = "COMPOSITION_CHANGED"  # allOf/anyOf/oneOf branches added or removed
    NOT_CHANGED = "NOT_CHANGED"
    CONDITIONAL_CHANGED = "CONDITIONAL_CHANGED"  # the `if` of if/then/else
    REF_ADDED = "REF_ADDED"
    REF_REMOVED = "REF_REMOVED"
    REF_CHANGED = "REF_CHANGED"
    REF_UNRESOLVED = "REF_UNRESOLVED"


@dataclass(frozen=True)
class Change:
    """One difference between two schema versions and its effect in each direction."""

    pointer: str  # JSON pointer into the new schema (old if removed); "uri#/..." in a $ref target
    kind: ChangeKind
    backward: bool  # every instance valid under the old schema is valid under the new one
    forward: bool  # every instance valid under the new schema is valid under the old one
    message: str
    against: str | None = None  # label of the previous version compared with, if known


# Keywords that never change which instances are valid. `format` is not one: the hub
# validates formats as assertions.
_ANNOTATIONS = (
    "title", "description", "$comment", "examples", "default", "deprecated", "readOnly",
    "writeOnly", "contentEncoding", "contentMediaType", "contentSchema", "$schema", "$id",
    "$anchor", "$dynamicAnchor", "$vocabulary",
)  # fmt: skip
ASSERTIONS = frozenset(
    {
        "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "multipleOf", "minLength", "maxLength", "pattern", "format", "items", "prefixItems",
        "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains",
        "unevaluatedItems", "properties", "patternProperties", "additionalProperties",
        "required", "minProperties", "maxProperties", "propertyNames", "dependentRequired",
        "dependentSchemas", "unevaluatedProperties", "allOf", "anyOf", "oneOf", "not", "if",
        "then", "else", "$ref", "$dynamicRef",
    }
)  # fmt: skip
# Containers of definitions are compared only where a `$ref` uses them.
_KNOWN = ASSERTIONS | set(_ANNOTATIONS) | {"$defs", "definitions"}
# Subschemas applied to the instance itself: they decide what `unevaluated*` sees.
IN_PLACE = frozenset(
    {"allOf", "anyOf", "oneOf", "if", "then", "else", "$ref", "$dynamicRef", "dependentSchemas"}
)
_ALL_TYPES = ("null", "boolean", "object", "array", "integer", "number", "string")
_NUMERIC = ("number", "integer")
_NOUNS = {"number": "numbers", "string": "strings", "array": "arrays", "object": "objects"}
# (narrower, wider): every string valid for the first format is valid for the second.
# RFC 3986/3987, 5321/6531, 1123/5890 and, for the hub's own formats, docs/standards.md.
FORMAT_SUBSETS = frozenset(
    {
        ("uri", "uri-reference"), ("uri", "iri"), ("uri", "iri-reference"),
        ("uri-reference", "iri-reference"), ("iri", "iri-reference"),
        ("email", "idn-email"), ("hostname", "idn-hostname"), ("uscc", "enterprise-code"),
    }
)  # fmt: skip
# keyword, its exclusive variant, lower bound?, JSON types it constrains, ChangeKind prefix
_BOUNDS = (
    ("minimum", "exclusiveMinimum", True, _NUMERIC, "MINIMUM"),
    ("maximum", "exclusiveMaximum", False, _NUMERIC, "MAXIMUM"),
    ("minLength", None, True, ("string",), "MIN_LENGTH"),
    ("maxLength", None, False, ("string",), "MAX_LENGTH"),
    ("minItems", None, True, ("array",), "MIN_ITEMS"),
    ("maxItems", None, False, ("array",), "MAX_ITEMS"),
    ("minProperties", None, True, ("object",), "MIN_PROPERTIES"),
    ("maxProperties", None, False, ("object",), "MAX_PROPERTIES"),
)


@dataclass(frozen=True)
class SchemaNode:
    """A subschema with the document it lives in, for resolving refs and writing pointers."""

    schema: Any  # a dict or a bool
    root: Any
    uri: str | None = None  # None for the two documents under comparison
    pointer: str = ""
    present: bool = True  # False for a keyword the schema leaves out (read as its default)

    @property
    def d(self) -> Mapping[str, Any]:
        return self.schema if isinstance(self.schema, dict) else {}

    @property
    def location(self) -> str:
        return f"{self.uri}#{self.pointer}" if self.uri else self.pointer

    def child(self, *tokens: str | int) -> SchemaNode:
        """The subschema at `tokens`, or a `true` placeholder if the schema leaves it out."""
        schema, pointer, present = self.schema, self.pointer, self.present
        for token in tokens:
            pointer += "/" + str(token).replace("~", "~0").replace("/", "~1")
            container = isinstance(schema, dict | list)
            if container and isinstance(token, int) == isinstance(schema, list):
                found = token in schema if isinstance(schema, dict) else int(token) < len(schema)
                if found:
                    schema = schema[token]
                    continue
            schema, present = True, False
        return SchemaNode(schema, self.root, self.uri, pointer, present)

    def absent(self, key: str) -> SchemaNode:
        """A `true` placeholder at `key`, whatever the schema holds there."""
        return replace(self.child(key), schema=True, present=False)

    def without(self, key: str) -> SchemaNode:
        return replace(self, schema={k: v for k, v in self.d.items() if k != key})


# -- rules over one keyword group ---------------------------------------------------------


def flat_changes(old: SchemaNode, new: SchemaNode) -> list[Change]:
    """Changes in keywords whose comparison needs no subschema walk."""
    changes = _annotations(old, new) + _types(old, new) + _values(old, new)
    for keyword, exclusive, lower, types, prefix in _BOUNDS:
        found = _bound(old, new, keyword, exclusive, lower=lower, prefix=prefix)
        changes += scope(found, old, new, types)
    changes += scope(_multiple_of(old, new), old, new, _NUMERIC)
    changes += scope(_pattern_and_format(old, new), old, new, ("string",))
    changes += scope(_unique_items(old, new), old, new, ("array",))
    changes += scope(_required(old, new) + _dependent_required(old, new), old, new, ("object",))
    return changes + _unknown(old, new)


def scope(
    changes: list[Change], old: SchemaNode, new: SchemaNode, types: Iterable[str]
) -> list[Change]:
    """Clears flags of keywords for a JSON type the schema on that side does not admit."""
    types = tuple(types)
    old_has, new_has = _admits(old.schema, types), _admits(new.schema, types)
    if old_has and new_has:
        return changes
    noun = _NOUNS[types[0]]
    result = []
    for c in changes:
        backward, forward = c.backward or not old_has, c.forward or not new_has
        if (backward, forward) != (c.backward, c.forward):
            side = "old" if not old_has else "new"
            note = f" (it cannot matter where the {side} schema admits no {noun})"
            c = replace(c, backward=backward, forward=forward, message=c.message + note)
        result.append(c)
    return result


def unevaluated_changes(old: SchemaNode, new: SchemaNode) -> list[Change]:
    """Flags unevaluated* next to in-place subschemas, which the checker does not trace."""
    changes = []
    for keyword in ("unevaluatedProperties", "unevaluatedItems"):
        if (keyword in old.d or keyword in new.d) and (IN_PLACE & {*old.d, *new.d}):
            message = (
                f"{keyword} next to in-place subschemas (allOf/anyOf/oneOf/if/$ref/...): the "
                "checker cannot tell which members those evaluate, so any change here is "
                "treated as incompatible both ways"
            )
            at = _where(old, new, keyword)
            changes.append(Change(at, ChangeKind.UNSUPPORTED_KEYWORD, False, False, message))
    return changes


def false_changes(old: SchemaNode, new: SchemaNode) -> list[Change]:
    """The change when either side is a schema that accepts nothing."""
    false_o, false_n = is_false(old.schema), is_false(new.schema)
    if false_o and false_n:
        return []
    if false_o:
        what = "the old schema accepted nothing here (false), the new one accepts values"
    else:
        what = "the new schema accepts nothing here (false)"
    return [change(ChangeKind.SCHEMA_CHANGED, old, new, false_o, false_n, what)]


def _annotations(old: SchemaNode, new: SchemaNode) -> list[Change]:
    changes = []
    for key in _ANNOTATIONS:
        before, after = old.d.get(key), new.d.get(key)
        if canon(before) != canon(after):
            kinds = {
                "title": ChangeKind.TITLE_CHANGED,
                "description": ChangeKind.DESCRIPTION_CHANGED,
            }
            kind = kinds.get(key, ChangeKind.ANNOTATION_CHANGED)
            at = new.child(key) if key in new.d else old.child(key)
            changes.append(
                info(kind, at, f"{key} changed from {_short(before)} to {_short(after)}")
            )
    return changes


def _unknown(old: SchemaNode, new: SchemaNode) -> list[Change]:
    changes = []
    for key in dict.fromkeys([*old.d, *new.d]):
        if key not in _KNOWN and canon(old.d.get(key)) != canon(new.d.get(key)):
            node = new.child(key) if key in new.d else old.child(key)
            what = f"unknown keyword {key!r} changed (JSON Schema 2020-12 validators ignore it)"
            changes.append(info(ChangeKind.UNKNOWN_KEYWORD_CHANGED, node, what))
    if canon(old.d.get("$dynamicRef")) != canon(new.d.get("$dynamicRef")):
        what = "$dynamicRef changed; the checker does not follow dynamic references"
        at = _where(old, new, "$dynamicRef")
        changes.append(Change(at, ChangeKind.UNSUPPORTED_KEYWORD, False, False, what))
    return changes


def _types(old: SchemaNode, new: SchemaNode) -> list[Change]:
    types_o, types_n = _declared_types(old.schema), _declared_types(new.schema)
    if types_o == types_n:
        return []
    backward, forward = _covers(types_n, types_o), _covers(types_o, types_n)
    if backward and not forward:
        kind = ChangeKind.TYPE_WIDENED
    elif forward and not backward:
        kind = ChangeKind.TYPE_NARROWED
    else:
        kind = ChangeKind.TYPE_CHANGED
    what = f"type changed from {_type_text(types_o)} to {_type_text(types_n)}"
    return [change(kind, old.child("type"), new.child("type"), backward, forward, what)]


def _values(old: SchemaNode, new: SchemaNode) -> list[Change]:
    values_o, values_n = allowed_values(old.schema), allowed_values(new.schema)
    const = "const" in old.d or "const" in new.d
    at_o = old.child("const" if "const" in old.d else "enum")
    at_n = new.child("const" if "const" in new.d else "enum")
    kinds = ChangeKind
    if values_o is None and values_n is None:
        return []
    if values_o is None:
        assert values_n is not None  # both None returned above
        what = f"only {_value_list(values_n)} allowed now"
        return [
            change(kinds.CONST_ADDED if const else kinds.ENUM_ADDED, at_o, at_n, False, True, what)
        ]
    if values_n is None:
        what = f"values other than {_value_list(values_o)} allowed now"
        kind = kinds.CONST_REMOVED if const else kinds.ENUM_REMOVED
        return [change(kind, at_o, at_n, True, False, what)]
    added = {k: v for k, v in values_n.items() if k not in values_o}
    removed = {k: v for k, v in values_o.items() if k not in values_n}
    changes = []
    if (added or removed) and const:
        what = f"allowed values changed from {_value_list(values_o)} to {_value_list(values_n)}"
        changes.append(change(kinds.CONST_CHANGED, at_o, at_n, not removed, not added, what))
    elif added or removed:
        if added:
            what = f"enum values added: {_value_list(added)}"
            changes.append(change(kinds.ENUM_VALUES_ADDED, at_o, at_n, True, False, what))
        if removed:
            what = f"enum values removed: {_value_list(removed)}"
            changes.append(change(kinds.ENUM_VALUES_REMOVED, at_o, at_n, False, True, what))
    return changes


def _bound(
    old: SchemaNode,
    new: SchemaNode,
    keyword: str,
    exclusive: str | None,
    *,
    lower: bool,
    prefix: str,
) -> list[Change]:
    bound_o = _tightest(old.d, keyword, exclusive, lower=lower)
    bound_n = _tightest(new.d, keyword, exclusive, lower=lower)
    backward = _looser(bound_n, bound_o, lower=lower)
    forward = _looser(bound_o, bound_n, lower=lower)
    if backward and forward:
        return []
    kind = ChangeKind[f"{prefix}_{'RELAXED' if backward else 'TIGHTENED'}"]
    at_o = old.child(bound_o[2] if bound_o else keyword)
    at_n = new.child(bound_n[2] if bound_n else keyword)
    what = (
        f"{'lower' if lower else 'upper'} bound changed from {_bound_text(bound_o)} "
        f"to {_bound_text(bound_n)}"
    )
    return [change(kind, at_o, at_n, backward, forward, what)]


def _multiple_of(old: SchemaNode, new: SchemaNode) -> list[Change]:
    step_o, step_n = old.d.get("multipleOf"), new.d.get("multipleOf")
    if step_o == step_n:
        return []
    backward, forward = _divides(step_n, step_o), _divides(step_o, step_n)
    what = f"multipleOf changed from {step_o} to {step_n}"
    at_o, at_n = old.child("multipleOf"), new.child("multipleOf")
    return [change(ChangeKind.MULTIPLE_OF_CHANGED, at_o, at_n, backward, forward, what)]


def _pattern_and_format(old: SchemaNode, new: SchemaNode) -> list[Change]:
    changes = []
    for keyword, includes, why in (
        ("pattern", lambda a, b: False, "the checker does not compare regular expressions"),
        ("format", lambda a, b: (a, b) in FORMAT_SUBSETS, "only known format inclusions count"),
    ):
        before, after = old.d.get(keyword), new.d.get(keyword)
        at_o, at_n = old.child(keyword), new.child(keyword)
        prefix = keyword.upper()
        if before == after:
            continue
        if before is None:
            kind, backward, forward = ChangeKind[f"{prefix}_ADDED"], False, True
        elif after is None:
            kind, backward, forward = ChangeKind[f"{prefix}_REMOVED"], True, False
        else:
            kind = ChangeKind[f"{prefix}_CHANGED"]
            backward, forward = includes(before, after), includes(after, before)
        what = f"{keyword} changed from {_short(before)} to {_short(after)}"
        if before is not None and after is not None:
            what += f" ({why})"
        changes.append(change(kind, at_o, at_n, backward, forward, what))
    return changes


def _unique_items(old: SchemaNode, new: SchemaNode) -> list[Change]:
    unique_o, unique_n = old.d.get("uniqueItems", False), new.d.get("uniqueItems", False)
    if unique_o == unique_n:
        return []
    kind = ChangeKind.UNIQUE_ITEMS_ADDED if unique_n else ChangeKind.UNIQUE_ITEMS_REMOVED
    what = "array items " + ("must now be unique" if unique_n else "no longer need to be unique")
    at_o, at_n = old.child("uniqueItems"), new.child("uniqueItems")
    return [change(kind, at_o, at_n, not unique_n, not unique_o, what)]


def _required(old: SchemaNode, new: SchemaNode) -> list[Change]:
    required_o, required_n = old.d.get("required", []), new.d.get("required", [])
    changes = []
    for name in required_n:
        if name not in required_o:
            message = (
                f"property '{name}' is now required: old records without it are rejected "
                "(not backward); new records always carry it, which old readers accept if "
                "they allow its value (reported for the property itself when it changed)"
            )
            at = new.child("required").location
            changes.append(Change(at, ChangeKind.REQUIRED_ADDED, False, True, message))
    for name in required_o:
        if name not in required_n:
            message = (
                f"property '{name}' is no longer required: old records stay valid (backward), "
                "but new records may omit it and readers on the old version reject them "
                "(not forward)"
            )
            at = _where(old, new, "required")
            changes.append(Change(at, ChangeKind.REQUIRED_REMOVED, True, False, message))
    return changes


def _dependent_required(old: SchemaNode, new: SchemaNode) -> list[Change]:
    deps_o, deps_n = old.d.get("dependentRequired", {}), new.d.get("dependentRequired", {})
    changes = []
    for name in dict.fromkeys([*deps_o, *deps_n]):
        needs_o, needs_n = set(deps_o.get(name, [])), set(deps_n.get(name, []))
        if needs_o != needs_n:
            what = (
                f"properties required alongside '{name}' changed from {sorted(needs_o)} "
                f"to {sorted(needs_n)}"
            )
            at_o = old.child("dependentRequired", name)
            at_n = new.child("dependentRequired", name)
            kind = ChangeKind.DEPENDENT_REQUIRED_CHANGED
            changes.append(change(kind, at_o, at_n, needs_n <= needs_o, needs_o <= needs_n, what))
    return changes


# -- messages -----------------------------------------------------------------------------


def change(
    kind: ChangeKind, old: SchemaNode, new: SchemaNode, backward: bool, forward: bool, what: str
) -> Change:
    """A change located in the new schema, or in the old one when the new lacks the place."""
    at = new if new.present or not old.present else old
    return Change(at.location, kind, backward, forward, f"{what}: {effect(backward, forward)}")


def info(kind: ChangeKind, at: SchemaNode, what: str) -> Change:
    """A change that does not affect validity."""
    return Change(at.location, kind, True, True, f"{what}; this does not change validity")


def effect(backward: bool, forward: bool) -> str:
    """Plain-English consequence of a pair of flags."""
    if backward and forward:
        return "no record changes validity"
    if backward:
        return (
            "old records stay valid under the new version (backward), but records written under "
            "the new version may be rejected by readers on the old version (not forward)"
        )
    if forward:
        return (
            "records written under the new version are valid under the old version (forward), "
            "but some old records may be rejected by the new version (not backward)"
        )
    return (
        "some old records may be rejected by the new version (not backward) and some new "
        "records by readers on the old version (not forward)"
    )


def property_message(
    name: str, *, added: bool, required: bool, closed: bool, backward: bool, forward: bool
) -> str:
    """Explains a property added or removed; `closed`: the side without it admits no extras."""
    model = "a closed object (additionalProperties: false)" if closed else "an open object"
    verb = f"added as {'required' if required else 'optional'} to" if added else "removed from"
    if added and backward:
        old_part = (
            "old records never carry it" if closed else "any value old records held there fits"
        )
    elif added:
        old_part = (
            f"old records may already carry '{name}' (the old schema allowed extra properties) "
            "with a value the new property schema rejects (not backward)"
        )
    elif backward:
        old_part = "old records that carry it are still accepted (backward)"
    else:
        old_part = "the new version rejects old records that carry it (not backward)"
    if added and forward:
        new_part = "readers on the old version accept the values new records carry (forward)"
    elif added and closed:
        new_part = "readers on the old version reject records that carry it (not forward)"
    elif added:
        new_part = f"readers on the old version may reject values new records carry in '{name}'"
        new_part += " (not forward)"
    elif forward and closed:
        new_part = "new records never carry it (forward)"
    elif forward:
        new_part = "any value new records carry under that name was allowed before (forward)"
    else:
        new_part = (
            f"new records may carry '{name}' with values the old version rejects (not forward)"
        )
    return f"property '{name}' {verb} {model}: {old_part}; {new_part}"


def describe(node: SchemaNode) -> str:
    """A short description of a boolean or absent subschema."""
    if is_false(node.schema):
        return "nothing allowed (false)"
    if node.schema is True or not asserts(node.schema):
        return "anything allowed" + ("" if node.present else " (not set)")
    return "a schema"


def _where(old: SchemaNode, new: SchemaNode, keyword: str) -> str:
    return (new if keyword in new.d or keyword not in old.d else old).child(keyword).location


def _short(value: Any) -> str:
    if value is None:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_list(values: Mapping[str, Any]) -> str:
    shown = list(values)[:6]
    more = f" and {len(values) - len(shown)} more" if len(values) > len(shown) else ""
    return (", ".join(shown) or "no value") + more


def _bound_text(bound: tuple[Any, bool, str] | None) -> str:
    return "none" if bound is None else f"{bound[2]} {bound[0]}"


def _type_text(types: frozenset[str] | None) -> str:
    return "any type" if types is None else "/".join(sorted(types))


# -- schema facts -------------------------------------------------------------------------


def canon(value: Any) -> str:
    """JSON text that is equal for equal JSON values (1 equals 1.0, true does not equal 1)."""
    return json.dumps(_norm(value), sort_keys=True, ensure_ascii=False)


def _norm(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


def asserts(schema: Any) -> bool:
    """True when the schema carries any assertion or applicator keyword."""
    return isinstance(schema, dict) and bool(ASSERTIONS & set(schema))


def is_false(schema: Any) -> bool:
    """True for `false` and `{"not": {}}`: schemas that accept nothing."""
    if schema is False:
        return True
    if not isinstance(schema, dict) or ASSERTIONS & set(schema) != {"not"}:
        return False
    return schema["not"] is True or not asserts(schema["not"])


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _declared_types(schema: Any) -> frozenset[str] | None:
    declared = schema.get("type") if isinstance(schema, dict) else None
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


def _accepts(types: frozenset[str] | None, json_type: str) -> bool:
    return types is None or json_type in types or (json_type == "integer" and "number" in types)


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    return all(_accepts(wide, t) for t in (_ALL_TYPES if narrow is None else narrow))


def allowed_values(schema: Any) -> dict[str, Any] | None:
    """The values enum/const/type allow (keyed by canonical text); None when unlimited."""
    if not isinstance(schema, dict) or ("enum" not in schema and "const" not in schema):
        return None
    values = {canon(v): v for v in schema["enum"]} if "enum" in schema else None
    if "const" in schema:
        key = canon(schema["const"])
        values = {key: schema["const"]} if values is None or key in values else {}
    types = _declared_types(schema)
    return {k: v for k, v in (values or {}).items() if _accepts(types, _json_type(v))}


def accepted_types(schema: Any) -> set[str]:
    """The JSON types (integer apart from number) of which the schema admits some value."""
    if is_false(schema):
        return set()
    values = allowed_values(schema)
    if values is not None:
        return {_json_type(v) for v in values.values()}
    declared = _declared_types(schema)
    return {t for t in _ALL_TYPES if _accepts(declared, t)}


def _admits(schema: Any, types: tuple[str, ...]) -> bool:
    return bool(accepted_types(schema) & set(types))


def _tightest(
    schema: Mapping[str, Any], keyword: str, exclusive: str | None, *, lower: bool
) -> tuple[Any, bool, str] | None:
    bounds = [(schema[keyword], False, keyword)] if keyword in schema else []
    if exclusive and exclusive in schema:
        bounds.append((schema[exclusive], True, exclusive))
    if not bounds:
        return None
    if lower:
        return max(bounds, key=lambda b: (b[0], b[1]))
    return min(bounds, key=lambda b: (b[0], not b[1]))


def _looser(
    a: tuple[Any, bool, str] | None, b: tuple[Any, bool, str] | None, *, lower: bool
) -> bool:
    """True when bound `a` admits every value bound `b` admits."""
    if a is None:
        return True
    if b is None:
        return False
    if a[0] != b[0]:
        return a[0] < b[0] if lower else a[0] > b[0]
    return not a[1] or b[1]


def _divides(step: Any, multiple: Any) -> bool:
    """True when every multiple of `multiple` is a multiple of `step`."""
    if step is None:
        return True
    if multiple is None:
        return False
    return (Fraction(str(multiple)) / Fraction(str(step))).denominator == 1


def governing(node: SchemaNode, extra: SchemaNode, name: str) -> list[SchemaNode] | None:
    """The subschemas a member called `name` must satisfy; None if a pattern is unreadable."""
    found = []
    if name in node.d.get("properties", {}):
        found.append(node.child("properties", name))
    for pattern in node.d.get("patternProperties", {}):
        match = matches(pattern, name)
        if match is None:
            return None
        if match:
            found.append(node.child("patternProperties", pattern))
    return found or [extra]


def matches(pattern: str, name: str) -> bool | None:
    """Whether `name` matches `pattern` (linear time); None when the engine cannot run it.

    Both the pattern and the names come from schemas a caller sends (checkCompatibility),
    so a backtracking engine here would be a ReDoS (hub/standards/patterns.py).
    """
    try:
        return patterns.search(pattern, name) is not None
    except patterns.UnsupportedPattern:
        return None


def target_id(node: SchemaNode) -> tuple[str | None, str]:
    """(document URI, fragment) a `$ref` points at; URI None for the document itself."""
    base, _, fragment = node.d["$ref"].partition("#")
    if not base:
        return node.uri, fragment
    return (urljoin(node.uri, base) if node.uri else base), fragment


def lookup(root: Any, fragment: str) -> tuple[Any, str] | None:
    """Follows a JSON pointer or `$anchor` fragment; (subschema, pointer) or None."""
    if fragment and not fragment.startswith("/"):
        return _find_anchor(root, fragment, "")
    target: Any = root
    for token in fragment.split("/")[1:]:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return None
    return target, fragment


def _find_anchor(schema: Any, anchor: str, pointer: str) -> tuple[Any, str] | None:
    if isinstance(schema, dict) and schema.get("$anchor") == anchor:
        return schema, pointer
    if isinstance(schema, dict | list):
        keys = schema if isinstance(schema, dict) else range(len(schema))
        for key in keys:
            token = str(key).replace("~", "~0").replace("/", "~1")
            found = _find_anchor(schema[key], anchor, f"{pointer}/{token}")
            if found is not None:
                return found
    return None
