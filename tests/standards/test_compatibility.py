"""Specification of the schema compatibility checker.

BACKWARD: the new schema accepts every record the old one accepted.
FORWARD: the old schema accepts every record the new one accepts. FULL: both.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from hub.standards.compatibility import (
    Change,
    ChangeKind,
    CompatibilityMode,
    check_against_history,
    check_compatibility,
    diff_schemas,
)

Mode = CompatibilityMode
DIRECTIONAL = (Mode.BACKWARD, Mode.FORWARD, Mode.FULL)


def _valid(schema: Any, instance: Any) -> bool:
    return jsonschema.Draft202012Validator(schema).is_valid(instance)


def _verdicts(old: Any, new: Any, **kwargs: Any) -> dict[Mode, bool]:
    return {
        mode: check_compatibility(old=old, new=new, mode=mode, **kwargs).compatible
        for mode in DIRECTIONAL
    }


def _expect(backward: bool, forward: bool) -> dict[Mode, bool]:
    return {Mode.BACKWARD: backward, Mode.FORWARD: forward, Mode.FULL: backward and forward}


def _kinds(old: Any, new: Any, **kwargs: Any) -> set[ChangeKind]:
    return {c.kind for c in diff_schemas(old=old, new=new, **kwargs)}


# -- the matrix: add/remove × required/optional × open/closed × mode ----------------------

# The property that is added or removed is {"type": "string"}; `a` is always there.
# change    presence    model     BACKWARD FORWARD FULL
MATRIX = [
    ("add", "optional", "open", False, True, False),
    ("add", "optional", "closed", True, False, False),
    ("add", "required", "open", False, True, False),
    ("add", "required", "closed", False, False, False),
    ("remove", "optional", "open", True, False, False),
    ("remove", "optional", "closed", False, True, False),
    ("remove", "required", "open", True, False, False),
    ("remove", "required", "closed", False, False, False),
]
# Why the surprising cells hold:
# - add optional to open: old records may already carry `note` with a non-string value,
#   which the new schema rejects; new records' `note` is accepted by the old open model.
# - add required to closed: old records lack `note` (not backward) and the old closed
#   model rejects new records that carry it (not forward).
# - remove optional from open: new records may carry `note` with any value (not forward).

CELLS = [
    pytest.param(change, presence, model, mode, expected, id=f"{change}-{presence}-{model}-{mode}")
    for change, presence, model, *verdicts in MATRIX
    for mode, expected in zip(DIRECTIONAL, verdicts, strict=True)
]

# Candidate records: each cell's verdict must agree with what jsonschema says about them.
POOL = [
    {"a": "x"},
    {"a": "x", "note": "n"},
    {"a": "x", "note": 5},
    {"a": "x", "other": 1},
    {"note": "n"},
    {},
]


def _matrix_pair(change: str, presence: str, model: str) -> tuple[dict, dict]:
    without = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    with_note = copy.deepcopy(without)
    with_note["properties"]["note"] = {"type": "string"}
    if presence == "required":
        with_note["required"] = ["a", "note"]
    if model == "closed":
        without["additionalProperties"] = with_note["additionalProperties"] = False
    return (without, with_note) if change == "add" else (with_note, without)


@pytest.mark.parametrize(("change", "presence", "model", "mode", "expected"), CELLS)
def test_matrix_verdict(change: str, presence: str, model: str, mode: Mode, expected: bool) -> None:
    old, new = _matrix_pair(change, presence, model)
    report = check_compatibility(old=old, new=new, mode=mode)
    assert report.compatible is expected
    assert bool(report.incompatible_changes) is not expected


@pytest.mark.parametrize(("change", "presence", "model", "mode", "expected"), CELLS)
def test_matrix_verdict_agrees_with_jsonschema(
    change: str, presence: str, model: str, mode: Mode, expected: bool
) -> None:
    old, new = _matrix_pair(change, presence, model)
    valid_old = [r for r in POOL if _valid(old, r)]
    valid_new = [r for r in POOL if _valid(new, r)]
    assert valid_old and valid_new  # the pool exercises both schemas
    backward = all(_valid(new, r) for r in valid_old)
    forward = all(_valid(old, r) for r in valid_new)
    assert _expect(backward, forward)[mode] is expected


def test_adding_an_unconstrained_property_to_an_open_object_is_fully_compatible() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {"type": "object", "properties": {"a": {"type": "string"}, "note": {}}}
    assert _verdicts(old, new) == _expect(True, True)
    assert _kinds(old, new) == {ChangeKind.PROPERTY_ADDED}


def test_property_added_message_explains_the_closed_content_model() -> None:
    old, new = _matrix_pair("add", "optional", "closed")
    (change,) = diff_schemas(old=old, new=new)
    assert change.pointer == "/properties/note"
    assert change.kind is ChangeKind.PROPERTY_ADDED
    assert "closed" in change.message and "old records never carry it" in change.message


def test_opening_a_closed_object_is_backward_only() -> None:
    old = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    new = {"type": "object", "properties": {"a": {}}}
    assert _verdicts(old, new) == _expect(True, False)
    assert _kinds(old, new) == {ChangeKind.ADDITIONAL_PROPERTIES_WIDENED}
    assert _kinds(new, old) == {ChangeKind.ADDITIONAL_PROPERTIES_NARROWED}


def test_required_toggled_on_a_listed_property() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {**old, "required": ["a"]}
    assert _verdicts(old, new) == _expect(False, True)
    assert _verdicts(new, old) == _expect(True, False)


def test_pattern_properties_govern_a_new_property() -> None:
    old = {"type": "object", "patternProperties": {"^x-": {"type": "string"}}}
    new = {**old, "properties": {"x-note": {"type": "string"}}}
    assert _verdicts(old, new) == _expect(True, True)


# -- values, types, bounds ----------------------------------------------------------------


def test_enum_values_added_is_backward_only() -> None:
    old, new = {"enum": ["A", "B"]}, {"enum": ["A", "B", "C"]}
    assert _verdicts(old, new) == _expect(True, False)
    assert _kinds(old, new) == {ChangeKind.ENUM_VALUES_ADDED}
    assert _verdicts(new, old) == _expect(False, True)
    assert _kinds(new, old) == {ChangeKind.ENUM_VALUES_REMOVED}


def test_enum_compares_json_values_not_python_values() -> None:
    # true == 1 in Python but not in JSON Schema; 1 and 1.0 are the same JSON number.
    assert _verdicts({"enum": [1]}, {"enum": [True]}) == _expect(False, False)
    assert diff_schemas(old={"enum": [1]}, new={"enum": [1.0]}) == ()


def test_const_changed_is_incompatible_both_ways() -> None:
    assert _verdicts({"const": "I"}, {"const": "E"}) == _expect(False, False)
    assert _kinds({"const": "I"}, {"const": "E"}) == {ChangeKind.CONST_CHANGED}


def test_const_relaxed_to_an_enum_containing_it_is_backward() -> None:
    assert _verdicts({"const": "I"}, {"enum": ["I", "E"]}) == _expect(True, False)


@pytest.mark.parametrize(
    ("old_type", "new_type", "kind", "backward", "forward"),
    [
        ("integer", "number", ChangeKind.TYPE_WIDENED, True, False),
        ("number", "integer", ChangeKind.TYPE_NARROWED, False, True),
        ("string", ["string", "null"], ChangeKind.TYPE_WIDENED, True, False),
        ("string", "integer", ChangeKind.TYPE_CHANGED, False, False),
    ],
)
def test_type_changes(
    old_type: Any, new_type: Any, kind: ChangeKind, backward: bool, forward: bool
) -> None:
    old, new = {"type": old_type}, {"type": new_type}
    assert _kinds(old, new) == {kind}
    assert _verdicts(old, new) == _expect(backward, forward)


@pytest.mark.parametrize(
    ("old", "new", "kind", "backward", "forward"),
    [
        ({"minimum": 0}, {"minimum": -1}, ChangeKind.MINIMUM_RELAXED, True, False),
        ({"minimum": 0}, {"exclusiveMinimum": 0}, ChangeKind.MINIMUM_TIGHTENED, False, True),
        ({"maximum": 99}, {"maximum": 999}, ChangeKind.MAXIMUM_RELAXED, True, False),
        ({}, {"maximum": 5}, ChangeKind.MAXIMUM_TIGHTENED, False, True),
        ({"maxLength": 60}, {"maxLength": 30}, ChangeKind.MAX_LENGTH_TIGHTENED, False, True),
        ({"minLength": 1}, {}, ChangeKind.MIN_LENGTH_RELAXED, True, False),
        ({"minItems": 1}, {"minItems": 2}, ChangeKind.MIN_ITEMS_TIGHTENED, False, True),
        ({"maxItems": 99}, {}, ChangeKind.MAX_ITEMS_RELAXED, True, False),
        ({"multipleOf": 0.01}, {"multipleOf": 0.001}, ChangeKind.MULTIPLE_OF_CHANGED, True, False),
        ({}, {"uniqueItems": True}, ChangeKind.UNIQUE_ITEMS_ADDED, False, True),
    ],
)
def test_bounds(old: dict, new: dict, kind: ChangeKind, backward: bool, forward: bool) -> None:
    assert _kinds(old, new) == {kind}
    assert _verdicts(old, new) == _expect(backward, forward)


def test_bound_on_a_type_the_schema_does_not_admit_cannot_matter() -> None:
    old = {"type": "string", "minimum": 0}
    new = {"type": "string", "minimum": 10}
    assert _verdicts(old, new) == _expect(True, True)


@pytest.mark.parametrize(
    ("old", "new", "kind", "backward", "forward"),
    [
        ({}, {"pattern": "^[0-9]{4}$"}, ChangeKind.PATTERN_ADDED, False, True),
        ({"pattern": "^[0-9]{4}$"}, {}, ChangeKind.PATTERN_REMOVED, True, False),
        # Even a wider pattern counts as incompatible: regexes are not compared.
        (
            {"pattern": "^[0-9]{4}$"},
            {"pattern": "^[0-9]{4,6}$"},
            ChangeKind.PATTERN_CHANGED,
            False,
            False,
        ),
        ({}, {"format": "hs-code"}, ChangeKind.FORMAT_ADDED, False, True),
        ({"format": "hs-code"}, {}, ChangeKind.FORMAT_REMOVED, True, False),
        ({"format": "uscc"}, {"format": "enterprise-code"}, ChangeKind.FORMAT_CHANGED, True, False),
        (
            {"format": "hs-code"},
            {"format": "customs-code"},
            ChangeKind.FORMAT_CHANGED,
            False,
            False,
        ),
    ],
)
def test_patterns_and_formats(
    old: dict, new: dict, kind: ChangeKind, backward: bool, forward: bool
) -> None:
    old, new = {"type": "string", **old}, {"type": "string", **new}
    assert _kinds(old, new) == {kind}
    assert _verdicts(old, new) == _expect(backward, forward)


def test_identical_pattern_is_no_change() -> None:
    schema = {"type": "string", "pattern": "^-?\\d{1,14}(\\.\\d{1,5})?$"}
    assert diff_schemas(old=schema, new=copy.deepcopy(schema)) == ()


def test_pattern_changed_message_says_why_it_is_incompatible() -> None:
    (change,) = diff_schemas(old={"pattern": "^a$"}, new={"pattern": "^(a|b)$"})
    assert "does not compare regular expressions" in change.message


# -- arrays, composition, conditionals ---------------------------------------------------


def test_items_schema_narrowed() -> None:
    old = {
        "type": "array",
        "items": {"type": "object", "properties": {"gnum": {"type": "integer"}}},
    }
    new = copy.deepcopy(old)
    new["items"]["properties"]["gnum"]["maximum"] = 99
    changes = diff_schemas(old=old, new=new)
    assert [(c.pointer, c.kind) for c in changes] == [
        ("/items/properties/gnum/maximum", ChangeKind.MAXIMUM_TIGHTENED)
    ]
    assert _verdicts(old, new) == _expect(False, True)


def test_items_closed_is_backward_incompatible() -> None:
    old = {"type": "array", "prefixItems": [{"type": "string"}]}
    new = {**old, "items": False}
    assert _kinds(old, new) == {ChangeKind.ITEMS_CHANGED}
    assert _verdicts(old, new) == _expect(False, True)


def test_prefix_item_added_against_open_items() -> None:
    old = {"type": "array", "prefixItems": [{"type": "string"}]}
    new = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
    assert _kinds(old, new) == {ChangeKind.PREFIX_ITEMS_CHANGED}
    assert _verdicts(old, new) == _expect(False, True)


def test_any_of_branch_added_is_backward_only() -> None:
    old = {"anyOf": [{"type": "string"}]}
    new = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert _kinds(old, new) == {ChangeKind.COMPOSITION_CHANGED}
    assert _verdicts(old, new) == _expect(True, False)
    assert _verdicts(new, old) == _expect(False, True)


def test_any_of_branch_removed_but_covered_by_another_is_compatible_both_ways() -> None:
    old = {"anyOf": [{"type": "integer"}, {"type": "number"}]}
    new = {"anyOf": [{"type": "number"}]}
    assert _verdicts(old, new) == _expect(True, True)


def test_one_of_branch_added_with_a_discriminator_is_backward() -> None:
    def branch(kind: str) -> dict:
        return {
            "type": "object",
            "properties": {"orderType": {"const": kind}},
            "required": ["orderType"],
        }

    old = {"oneOf": [branch("I"), branch("E")]}
    new = {"oneOf": [branch("I"), branch("E"), branch("B")]}
    assert _verdicts(old, new) == _expect(True, False)


def test_one_of_branch_added_that_may_overlap_is_incompatible() -> None:
    old = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    new = {"oneOf": [{"type": "string"}, {"type": "integer"}, {"maxLength": 3}]}
    assert _verdicts(old, new)[Mode.BACKWARD] is False
    assert _valid(old, "ab") and not _valid(new, "ab")  # now matches two branches


def test_all_of_branch_added_is_a_new_constraint() -> None:
    old = {"allOf": [{"type": "string"}]}
    new = {"allOf": [{"type": "string"}, {"maxLength": 5}]}
    assert _verdicts(old, new) == _expect(False, True)


def test_any_of_introduced_around_the_old_schema_is_backward() -> None:
    old = {"type": "string"}
    new = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert _verdicts(old, new) == _expect(True, False)


def test_not_swaps_the_direction() -> None:
    old = {"not": {"enum": ["X", "Y"]}}
    new = {"not": {"enum": ["X"]}}  # fewer excluded values: wider
    assert _verdicts(old, new) == _expect(True, False)


def test_conditional_branch_changes_are_walked() -> None:
    cond = {"properties": {"orderType": {"const": "I"}}, "required": ["orderType"]}
    old = {"if": cond, "then": {"required": ["buyerIdNumber"]}}
    new = {"if": cond, "then": {"required": ["buyerIdNumber", "consignee"]}}
    changes = diff_schemas(old=old, new=new)
    assert [c.pointer for c in changes] == ["/then/required"]
    assert _verdicts(old, new) == _expect(False, True)


def test_conditional_with_a_changed_condition_is_reported_once() -> None:
    old = {"if": {"properties": {"t": {"const": "I"}}}, "then": {"required": ["b"]}}
    new = {"if": {"properties": {"t": {"const": "E"}}}, "then": {"required": ["b"]}}
    assert _kinds(old, new) == {ChangeKind.CONDITIONAL_CHANGED}
    assert _verdicts(old, new) == _expect(False, False)


# -- $ref ---------------------------------------------------------------------------------

MONEY = {"type": "string", "pattern": "^-?\\d{1,14}(\\.\\d{1,5})?$"}
COMMON = {
    "/standards/cbec.common/1.0.0": {
        "$defs": {"money": MONEY, "currency": {"pattern": "^\\d{3}$"}}
    },
    # 1.1.0 only adds a definition: money is unchanged.
    "/standards/cbec.common/1.1.0": {
        "$defs": {
            "money": MONEY,
            "currency": {"pattern": "^\\d{3}$"},
            "country": {"type": "string"},
        }
    },
    # 2.0.0 changes money's precision.
    "/standards/cbec.common/2.0.0": {
        "$defs": {"money": {"type": "string", "pattern": "^-?\\d{1,16}(\\.\\d{1,2})?$"}}
    },
}


def _resolve(uri: str) -> dict:
    return COMMON[uri]


def _order(common_version: str) -> dict:
    ref = {"$ref": f"/standards/cbec.common/{common_version}#/$defs/money"}
    return {"type": "object", "properties": {"goodsValue": ref}, "required": ["goodsValue"]}


def test_ref_to_the_same_published_version_is_unchanged_without_resolving() -> None:
    assert diff_schemas(old=_order("1.0.0"), new=_order("1.0.0")) == ()


def test_ref_to_a_newer_common_version_with_the_same_definition_is_compatible() -> None:
    report = check_compatibility(
        old=_order("1.0.0"), new=_order("1.1.0"), mode=Mode.FULL, resolve=_resolve
    )
    assert report.compatible
    assert [c.kind for c in report.changes] == [ChangeKind.REF_CHANGED]


def test_ref_to_a_common_version_with_a_changed_definition_is_incompatible() -> None:
    changes = diff_schemas(old=_order("1.0.0"), new=_order("2.0.0"), resolve=_resolve)
    pattern = next(c for c in changes if c.kind is ChangeKind.PATTERN_CHANGED)
    assert pattern.pointer == "/standards/cbec.common/2.0.0#/$defs/money/pattern"
    assert _verdicts(_order("1.0.0"), _order("2.0.0"), resolve=_resolve) == _expect(False, False)


def test_unresolvable_ref_is_reported_as_incompatible() -> None:
    changes = diff_schemas(old=_order("1.0.0"), new=_order("1.1.0"))
    assert [c.kind for c in changes] == [ChangeKind.REF_UNRESOLVED]
    assert not changes[0].backward and not changes[0].forward


def test_a_remembered_comparison_is_not_reused_once_a_referenced_document_differs() -> None:
    # diff_schemas remembers results; the same pair of schemas must be compared afresh when
    # what their $refs resolve to has changed (or cannot be resolved any more).
    first = diff_schemas(old=_order("1.0.0"), new=_order("1.1.0"), resolve=_resolve)
    assert [c.kind for c in first] == [ChangeKind.REF_CHANGED]
    changed = {**COMMON, "/standards/cbec.common/1.1.0": COMMON["/standards/cbec.common/2.0.0"]}
    again = diff_schemas(old=_order("1.0.0"), new=_order("1.1.0"), resolve=changed.__getitem__)
    assert ChangeKind.PATTERN_CHANGED in [c.kind for c in again]
    unresolved = diff_schemas(old=_order("1.0.0"), new=_order("1.1.0"))
    assert [c.kind for c in unresolved] == [ChangeKind.REF_UNRESOLVED]
    assert diff_schemas(old=_order("1.0.0"), new=_order("1.1.0"), resolve=_resolve) == first


def test_inline_schema_replaced_by_an_equal_ref_is_compatible() -> None:
    old = {"type": "object", "properties": {"goodsValue": MONEY}}
    report = check_compatibility(
        old=old, new=_order("1.0.0") | {"required": []}, mode=Mode.FULL, resolve=_resolve
    )
    assert report.compatible, report.incompatible_changes


def test_local_definition_changes_are_seen_through_the_ref() -> None:
    old = {
        "$defs": {"code": {"type": "string", "maxLength": 10}},
        "properties": {"c": {"$ref": "#/$defs/code"}},
    }
    new = copy.deepcopy(old)
    new["$defs"]["code"]["maxLength"] = 18
    changes = diff_schemas(old=old, new=new)
    assert [(c.pointer, c.kind) for c in changes] == [
        ("/$defs/code/maxLength", ChangeKind.MAX_LENGTH_RELAXED)
    ]


def test_recursive_schemas_terminate() -> None:
    children = {"type": "array", "items": {"$ref": "#/$defs/node"}}
    node = {"type": "object", "properties": {"children": children}}
    old = {"$defs": {"node": node}, "$ref": "#/$defs/node"}
    new = copy.deepcopy(old)
    new["$defs"]["node"]["properties"]["name"] = {"type": "string"}
    assert _verdicts(old, new) == _expect(False, True)
    assert _verdicts(old, copy.deepcopy(old)) == _expect(True, True)


# -- modes, history, reports --------------------------------------------------------------


def test_mode_properties() -> None:
    assert Mode.FULL_TRANSITIVE.transitive and not Mode.FULL.transitive
    assert Mode.FULL.needs_backward and Mode.FULL.needs_forward
    assert Mode.BACKWARD_TRANSITIVE.needs_backward and not Mode.BACKWARD_TRANSITIVE.needs_forward
    assert Mode.FORWARD.needs_forward and not Mode.FORWARD.needs_backward
    assert not Mode.NONE.needs_backward and not Mode.NONE.needs_forward


def test_none_mode_is_always_compatible_but_lists_changes() -> None:
    report = check_compatibility(old={"type": "string"}, new={"type": "integer"}, mode=Mode.NONE)
    assert report.compatible
    assert [c.kind for c in report.changes] == [ChangeKind.TYPE_CHANGED]


def _status(values: list[str]) -> dict:
    return {"type": "object", "properties": {"s": {"enum": values}}, "additionalProperties": False}


def test_transitive_mode_checks_every_previous_version() -> None:
    # Backward compatibility is inclusion of valid sets, which chains: if v1→v2 and v2→v3
    # both held, v1→v3 would hold too. A non-transitive history therefore needs a step that
    # broke on purpose, such as v2 published as a MAJOR version that dropped "X".
    v1, v2, v3 = _status(["A", "X"]), _status(["A"]), _status(["A", "B"])
    history = [("1.0.0", v1), ("2.0.0", v2)]
    assert check_compatibility(old=v2, new=v3, mode=Mode.BACKWARD).compatible
    assert not check_compatibility(old=v1, new=v3, mode=Mode.BACKWARD).compatible

    latest_only = check_against_history(history=history, new=v3, mode=Mode.BACKWARD)
    every_version = check_against_history(history=history, new=v3, mode=Mode.BACKWARD_TRANSITIVE)
    assert latest_only.compatible
    assert not every_version.compatible
    assert {c.against for c in latest_only.changes} == {"2.0.0"}
    assert {c.against for c in every_version.incompatible_changes} == {"1.0.0"}


def test_compatible_steps_stay_compatible_transitively() -> None:
    v1, v2, v3 = _status(["A"]), _status(["A", "B"]), _status(["A", "B", "C"])
    report = check_against_history(
        history=[("1", v1), ("2", v2)], new=v3, mode=Mode.BACKWARD_TRANSITIVE
    )
    assert report.compatible
    assert [c.against for c in report.changes] == ["1", "2"]


def test_empty_history_is_compatible() -> None:
    assert check_against_history(
        history=[], new=_status(["A"]), mode=Mode.FULL_TRANSITIVE
    ).compatible


def test_mode_may_be_given_as_text() -> None:
    report = check_compatibility(old=_status(["A"]), new=_status(["B"]), mode="FORWARD")  # type: ignore[arg-type]
    assert report.mode is Mode.FORWARD and not report.compatible


def test_report_to_dict() -> None:
    old, new = _matrix_pair("add", "optional", "closed")
    data = check_compatibility(old=old, new=new, mode=Mode.FORWARD).to_dict()
    assert data["mode"] == "FORWARD" and data["compatible"] is False
    (entry,) = data["changes"]
    assert entry["kind"] == "PROPERTY_ADDED" and entry["compatible"] is False
    assert set(entry) == {
        "pointer",
        "kind",
        "backward",
        "forward",
        "compatible",
        "message",
        "against",
    }


def test_annotations_are_informational() -> None:
    old = {"type": "string", "title": "Order number", "description": "Platform's order number"}
    new = {
        "type": "string",
        "title": "Order no.",
        "description": "The platform's order number",
        "examples": ["X1"],
    }
    changes = diff_schemas(old=old, new=new)
    assert {c.kind for c in changes} == {
        ChangeKind.TITLE_CHANGED,
        ChangeKind.DESCRIPTION_CHANGED,
        ChangeKind.ANNOTATION_CHANGED,
    }
    assert all(c.backward and c.forward for c in changes)


ALL_MODES = list(Mode)
SCHEMAS = [
    _matrix_pair("add", "required", "closed")[1],
    _order("1.0.0"),
    {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 1}], "not": {"const": 3}},
    {
        "type": "array",
        "prefixItems": [{"const": 1}],
        "items": {"format": "uscc"},
        "contains": {"const": 1},
    },
    {"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"maxProperties": 0}},
]


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("mode", ALL_MODES)
def test_identical_schemas_are_compatible_under_every_mode(schema: dict, mode: Mode) -> None:
    report = check_compatibility(old=schema, new=copy.deepcopy(schema), mode=mode, resolve=_resolve)
    assert report.changes == ()
    assert report.compatible


EVERY_KIND_OF_EDIT = [(_matrix_pair(*cell[:3])) for cell in MATRIX] + [
    ({"enum": ["A"]}, {"enum": ["B"]}),
    ({"type": "integer", "maximum": 1}, {"type": "number", "exclusiveMaximum": 1}),
    ({"title": "a", "x-note": 1}, {"title": "b", "x-note": 2}),
    ({"anyOf": [{"type": "string"}]}, {"allOf": [{"minLength": 1}], "not": {"const": ""}}),
    ({"dependentRequired": {"a": ["b"]}}, {"dependentSchemas": {"a": {"required": ["c"]}}}),
    (
        {"patternProperties": {"^x": {}}},
        {"patternProperties": {"^y": {"type": "string"}}, "propertyNames": {"maxLength": 5}},
    ),
    ({"items": {"type": "string"}}, {"items": True, "minItems": 1, "contains": {"const": 1}}),
    (_order("1.0.0"), _order("2.0.0")),
    (
        {"unevaluatedProperties": False, "allOf": [{"properties": {"a": {}}}]},
        {"unevaluatedProperties": False, "allOf": [{"properties": {"b": {}}}]},
    ),
    (True, False),
]


@pytest.mark.parametrize(("old", "new"), EVERY_KIND_OF_EDIT)
def test_every_change_has_a_pointer_and_a_message(old: Any, new: Any) -> None:
    changes = diff_schemas(old=old, new=new, resolve=_resolve)
    assert changes
    for change in changes:
        assert isinstance(change, Change)
        assert change.pointer == "" or change.pointer.startswith("/") or "#/" in change.pointer
        assert isinstance(change.kind, ChangeKind)
        assert change.message.strip()
