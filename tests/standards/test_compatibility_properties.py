"""Property tests: self-compatibility, and no verdict that jsonschema refutes.

Soundness is the promise that matters: when the report says BACKWARD, every instance valid
under the old schema must be valid under the new one (and the converse for FORWARD).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hub.standards.compatibility import CompatibilityMode, check_compatibility, diff_schemas

NAMES = ("a", "b", "c", "d")
STRINGS = ("", "a", "bb", "ccc", "dddd")
NUMBERS = (-2, -1, 0, 1, 2, 3, 1.5, -0.5)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(schema: Any, instance: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(instance)


# -- schemas ------------------------------------------------------------------------------


@st.composite
def string_schemas(draw: st.DrawFn) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if draw(st.booleans()):
        schema["minLength"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        schema["maxLength"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        schema["enum"] = draw(
            st.lists(st.sampled_from(STRINGS), min_size=1, max_size=3, unique=True)
        )
    return schema


@st.composite
def number_schemas(draw: st.DrawFn) -> dict:
    schema: dict[str, Any] = {"type": draw(st.sampled_from(["integer", "number"]))}
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if draw(st.integers(0, 3)) == 0:
            schema[keyword] = draw(st.integers(-2, 3))
    if draw(st.integers(0, 3)) == 0:
        schema["enum"] = draw(
            st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3, unique=True)
        )
    return schema


def leaf_schemas() -> st.SearchStrategy[dict]:
    return st.one_of(string_schemas(), number_schemas(), st.just({}), st.just({"type": "null"}))


def array_schemas(items: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    @st.composite
    def build(draw: st.DrawFn) -> dict:
        schema: dict[str, Any] = {"type": "array", "items": draw(items)}
        if draw(st.booleans()):
            schema["minItems"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            schema["maxItems"] = draw(st.integers(1, 3))
        return schema

    return build()


def object_schemas(values: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    @st.composite
    def build(draw: st.DrawFn) -> dict:
        names = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
        schema: dict[str, Any] = {"type": "object", "properties": {n: draw(values) for n in names}}
        required = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


def value_schemas() -> st.SearchStrategy[dict]:
    return st.recursive(
        leaf_schemas(),
        lambda inner: st.one_of(array_schemas(inner), object_schemas(inner)),
        max_leaves=6,
    )


def rich_schemas() -> st.SearchStrategy[dict]:
    """Schemas using composition, conditionals and local refs too, for self-comparison."""
    base = value_schemas()

    @st.composite
    def build(draw: st.DrawFn) -> dict:
        schema = draw(object_schemas(base))
        extra = draw(
            st.sets(st.sampled_from(["anyOf", "oneOf", "allOf", "not", "if", "ref", "patterns"]))
        )
        if "anyOf" in extra or "oneOf" in extra or "allOf" in extra:
            for keyword in extra & {"anyOf", "oneOf", "allOf"}:
                schema[keyword] = draw(st.lists(base, min_size=1, max_size=3))
        if "not" in extra:
            schema["not"] = draw(base)
        if "if" in extra:
            schema["if"], schema["then"] = draw(base), draw(base)
        if "ref" in extra:
            schema["$defs"] = {"shared": draw(base)}
            schema["properties"]["r"] = {"$ref": "#/$defs/shared"}
        if "patterns" in extra:
            schema["patternProperties"] = {"^x": draw(base)}
        return schema

    return build()


# -- edits --------------------------------------------------------------------------------


def _nodes(schema: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every subschema that an edit can touch."""
    found = [path]
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            found += _nodes(sub, (*path, "properties", name))
        if isinstance(schema.get("items"), dict):
            found += _nodes(schema["items"], (*path, "items"))
    return found


def _at(schema: dict, path: tuple) -> dict:
    for token in path:
        schema = schema[token]
    return schema


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[dict, dict]:
    old = draw(object_schemas(value_schemas()))
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        node = _at(new, draw(st.sampled_from(_nodes(new))))
        _edit(draw, node)
    return old, new


def _edit(draw: st.DrawFn, node: dict) -> None:
    kind = node.get("type")
    if kind == "object":
        props = node.setdefault("properties", {})
        action = draw(st.sampled_from(["add", "remove", "required", "closed"]))
        if action == "add" and len(props) < len(NAMES):
            name = draw(st.sampled_from([n for n in NAMES if n not in props]))
            props[name] = draw(leaf_schemas())
            if draw(st.booleans()):
                node["required"] = [*node.get("required", []), name]
        elif action == "remove" and props:
            name = draw(st.sampled_from(sorted(props)))
            del props[name]
            node["required"] = [r for r in node.get("required", []) if r != name]
        elif action == "required" and props:
            name = draw(st.sampled_from(sorted(props)))
            required = node.get("required", [])
            node["required"] = (
                [r for r in required if r != name] if name in required else [*required, name]
            )
        else:
            if node.pop("additionalProperties", None) is None:
                node["additionalProperties"] = False
        if not node.get("required", True):
            del node["required"]
        return
    if "enum" in node or draw(st.integers(0, 4)) == 0:
        pool = STRINGS if kind == "string" else NUMBERS
        values = node.get("enum", [])
        action = draw(st.sampled_from(["add", "remove", "drop"]))
        if action == "add":
            node["enum"] = list(dict.fromkeys([*values, draw(st.sampled_from(pool))]))
        elif action == "remove" and len(values) > 1:
            values.remove(draw(st.sampled_from(values)))
        else:
            node.pop("enum", None)
        return
    keyword = draw(
        st.sampled_from(
            {
                "string": ["minLength", "maxLength"],
                "array": ["minItems", "maxItems"],
                "integer": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
                "number": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
            }.get(kind, ["type"])
        )
    )
    if keyword == "type":
        node["type"] = draw(st.sampled_from(["integer", "number", "string", "null"]))
    elif keyword in node and draw(st.booleans()):
        del node[keyword]
    else:
        low = 0 if kind in ("string", "array") else -2
        node[keyword] = max(low, node.get(keyword, 1) + draw(st.sampled_from([-1, 1])))


# -- instances ----------------------------------------------------------------------------

NOISE = st.sampled_from(
    [None, True, 0, 1, 2, -1, 1.5, "", "a", "bb", "dddd", [], [1], {}, {"a": "a"}]
)


def instances(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the schema (often valid, sometimes just wrong) plus noise."""
    if not isinstance(schema, dict) or depth > 4:
        return NOISE
    shaped: list[st.SearchStrategy[Any]] = [NOISE]
    if "enum" in schema:
        shaped.append(st.sampled_from(schema["enum"]))
    kind = schema.get("type")
    if kind == "string":
        shaped.append(st.sampled_from(STRINGS))
    elif kind in ("integer", "number"):
        shaped.append(st.sampled_from(NUMBERS))
    elif kind == "array":
        shaped.append(st.lists(instances(schema.get("items"), depth + 1), max_size=4))
    elif kind == "object":
        props = schema.get("properties", {})
        values = {n: instances(props.get(n), depth + 1) for n in NAMES}
        required = set(schema.get("required", [])) & set(NAMES)
        optional = {n: v for n, v in values.items() if n not in required}
        shaped.append(st.fixed_dictionaries({n: values[n] for n in required}, optional=optional))
    return st.one_of(*shaped)


# -- properties ---------------------------------------------------------------------------


@FAST
@given(schema=rich_schemas())
def test_every_schema_is_compatible_with_itself_under_every_mode(schema: dict) -> None:
    twin = copy.deepcopy(schema)
    assert diff_schemas(old=schema, new=twin) == ()
    for mode in CompatibilityMode:
        report = check_compatibility(old=schema, new=twin, mode=mode)
        assert report.compatible and report.incompatible_changes == ()


@FAST
@given(schema=rich_schemas(), title=st.text(max_size=5))
def test_annotation_edits_never_break_compatibility(schema: dict, title: str) -> None:
    edited = {**copy.deepcopy(schema), "title": title, "description": "edited"}
    for mode in CompatibilityMode:
        assert check_compatibility(old=schema, new=edited, mode=mode).compatible


@FAST
@given(pair=edited_pairs(), data=st.data())
def test_reported_compatibility_holds_for_generated_instances(
    pair: tuple[dict, dict], data: st.DataObject
) -> None:
    old, new = pair
    backward = check_compatibility(old=old, new=new, mode=CompatibilityMode.BACKWARD).compatible
    forward = check_compatibility(old=old, new=new, mode=CompatibilityMode.FORWARD).compatible
    event(f"backward={backward} forward={forward}")
    samples = data.draw(
        st.lists(st.one_of(instances(old), instances(new)), min_size=10, max_size=25)
    )
    for instance in samples:
        valid_old, valid_new = _valid(old, instance), _valid(new, instance)
        if backward and valid_old:
            assert valid_new, (
                f"BACKWARD claimed, but {instance!r} is valid only under the old schema"
            )
        if forward and valid_new:
            assert valid_old, (
                f"FORWARD claimed, but {instance!r} is valid only under the new schema"
            )


def test_the_edits_are_not_all_judged_incompatible() -> None:
    # Soundness alone would hold for a checker that rejects everything: make sure the
    # easy directions of the generated edits are recognised.
    base = {
        "type": "object",
        "properties": {"a": {"type": "string", "enum": ["a"], "maxLength": 2}},
    }
    wider = copy.deepcopy(base)
    wider["properties"]["a"]["enum"].append("bb")
    wider["properties"]["a"]["maxLength"] = 3
    wider["properties"]["b"] = {}
    assert check_compatibility(old=base, new=wider, mode=CompatibilityMode.BACKWARD).compatible
    assert check_compatibility(old=wider, new=base, mode=CompatibilityMode.FORWARD).compatible
