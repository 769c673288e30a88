"""The compiled validator: error lists, offline references, caching, and agreement of engines."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from hub.standards.formats import uscc_check_char
from hub.standards.refs import inline_refs
from hub.standards.validation import (
    INTERNAL_BASE,
    CompiledValidator,
    SchemaCompileError,
    ValidationIssue,
    check_schema,
    compile_validator,
    find_refs,
    schema_uri,
)
from tests.standards.samples import all_samples, shipped_resources, shipped_validator

DRAFT = "https://json-schema.org/draft/2020-12/schema"
URI = schema_uri("test.thing", "1.0.0")
COMMON = schema_uri("cbec.common", "1.0.0")


def _compile(
    schema: dict[str, Any], resources: dict[str, dict[str, Any]] | None = None
) -> CompiledValidator:
    return compile_validator(
        schema={"$schema": DRAFT, **schema},
        uri=URI,
        resources=shipped_resources() if resources is None else resources,
    )


def _pairs(issues: list[ValidationIssue]) -> list[tuple[str, str]]:
    return [(issue.path, issue.keyword) for issue in issues]


THING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "amount", "lines"],
    "properties": {
        "code": {"$ref": "/standards/cbec.common/1.0.0#/$defs/enterpriseCode"},
        "amount": {"$ref": "/standards/cbec.common/1.0.0#/$defs/money"},
        "lines": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "type": "object",
                "required": ["gnum"],
                "properties": {"gnum": {"$ref": "/standards/cbec.common/1.0.0#/$defs/gnum"}},
            },
        },
    },
}
GOOD_CODE = "91320303MA1PLT001" + uscc_check_char("91320303MA1PLT001")


def test_schema_uri_lives_under_the_never_resolving_internal_base() -> None:
    assert INTERNAL_BASE == "https://hub.invalid/standards"
    assert schema_uri("cbec.order", "1.0.0") == "https://hub.invalid/standards/cbec.order/1.0.0"


def test_valid_record_has_no_errors() -> None:
    validator = _compile(THING)
    record = {"code": GOOD_CODE, "amount": "10.5", "lines": [{"gnum": 1}]}
    assert validator.is_valid(record)
    assert validator.errors(record) == []


def test_errors_lists_every_error_with_pointer_and_keyword() -> None:
    validator = _compile(THING)
    record = {
        "code": GOOD_CODE[:-1] + ("0" if GOOD_CODE[-1] != "0" else "1"),
        "amount": "10.123456",
        "lines": [{"gnum": 1}, {"gnum": 0}, {}],
        "colour": "red",
    }
    assert not validator.is_valid(record)
    assert sorted(_pairs(validator.errors(record))) == sorted(
        [
            ("/code", "format"),
            ("/amount", "pattern"),
            ("/lines", "maxItems"),
            ("/lines/1/gnum", "minimum"),
            ("/lines/2/gnum", "required"),
            ("/colour", "additionalProperties"),
        ]
    )


def test_error_messages_are_plain_english_and_short() -> None:
    validator = _compile(THING)
    issues = validator.errors({"code": "X", "amount": 10, "lines": [{"gnum": 1}] * 50})
    by_path = {issue.path: issue for issue in issues}
    assert "USCC" in by_path["/code"].message
    assert by_path["/amount"].message == "10 is not of type string"
    assert by_path["/lines"].message == "has 50 items, at most 2 allowed"
    assert all(len(issue.message) < 200 for issue in issues)


def test_missing_field_is_reported_at_the_field_itself() -> None:
    issues = _compile(THING).errors({"lines": []})
    assert ("/code", "required") in _pairs(issues)
    assert ("/amount", "required") in _pairs(issues)


def test_errors_stop_at_the_limit() -> None:
    many = {"type": "array", "items": {"type": "string"}}
    issues = _compile(many).errors(list(range(500)), limit=7)
    assert len(issues) == 7
    assert issues[0] == ValidationIssue("/0", "type", "0 is not of type string")


def test_json_pointer_escapes_slash_and_tilde_in_keys() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    issues = _compile(schema).errors({"a/b": "x", "c~d": "y"})
    assert sorted(_pairs(issues)) == [("/a~1b", "type"), ("/c~0d", "type")]


def test_one_of_failure_reports_the_closest_branch_leaf_errors() -> None:
    schema = {
        "oneOf": [
            {
                "type": "object",
                "required": ["kind", "emsNo"],
                "properties": {"kind": {"const": "bonded"}, "emsNo": {"type": "string"}},
            },
            {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "direct"}}},
        ]
    }
    issues = _compile(schema).errors({"kind": "bonded", "emsNo": 5})
    assert _pairs(issues) == [("/emsNo", "type")]


def test_any_of_with_no_closest_branch_uses_the_description() -> None:
    schema = {
        "type": "integer",
        "description": "a customs status (100, 120 or 501-599)",
        "anyOf": [{"enum": [100, 120]}, {"minimum": 501, "maximum": 599}],
    }
    issues = _compile(schema).errors(700)
    assert issues == [
        ValidationIssue("", "anyOf", "700 is not a customs status (100, 120 or 501-599)")
    ]


def test_conditional_rule_is_named_in_the_message() -> None:
    schema = {
        "type": "object",
        "if": {"properties": {"tradeMode": {"enum": ["1210", "1239"]}}},
        "then": {"title": "bonded trade modes (1210/1239)", "required": ["emsNo"]},
    }
    issues = _compile(schema).errors({"tradeMode": "1210"})
    assert issues == [
        ValidationIssue("/emsNo", "required", "is required for bonded trade modes (1210/1239)")
    ]


def test_dollar_in_pattern_means_end_of_string_in_both_engines() -> None:
    validator = _compile({"type": "string", "pattern": "^[0-9]+$"})
    assert not validator.is_valid("100\n")
    assert _pairs(validator.errors("100\n")) == [("", "pattern")]
    assert validator.is_valid("100")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError(f"network connection attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
    assert attempts == []


def test_remote_ref_is_refused_without_connecting(no_network: list[object]) -> None:
    with pytest.raises(SchemaCompileError, match=r"example\.com.*not a published standard"):
        _compile({"$ref": "https://example.com/schemas/order.json"})


def test_ref_to_unpublished_version_is_refused(no_network: list[object]) -> None:
    with pytest.raises(SchemaCompileError, match=r"cbec.common/9.9.9"):
        _compile({"$ref": "/standards/cbec.common/9.9.9#/$defs/money"})


def test_remote_ref_inside_a_referenced_standard_is_refused(no_network: list[object]) -> None:
    poisoned = {"$schema": DRAFT, "$defs": {"x": {"$ref": "http://127.0.0.1:9/x.json"}}}
    with pytest.raises(SchemaCompileError, match=r"127\.0\.0\.1"):
        compile_validator(
            schema={"$ref": "/standards/evil/1.0.0#/$defs/x"},
            uri=URI,
            resources={schema_uri("evil", "1.0.0"): poisoned},
        )


def test_rust_engine_never_fetches_even_if_asked_directly(no_network: list[object]) -> None:
    # Second line of defence: the retriever we hand jsonschema_rs refuses too.
    from hub.standards.validation import _refuse_rust

    with pytest.raises(jsonschema_rs.ValidationError, match="never fetched"):
        jsonschema_rs.validator_for(
            {"$ref": "https://example.com/x.json"}, retriever=_refuse_rust, base_uri=URI
        )


def test_local_and_shared_refs_resolve_offline(no_network: list[object]) -> None:
    validator = _compile(
        {"$defs": {"m": {"$ref": "/standards/cbec.common/1.0.0#/$defs/money"}}, "$ref": "#/$defs/m"}
    )
    assert validator.is_valid("12.50")
    assert not validator.is_valid("12,50")


def test_schema_of_another_draft_is_refused() -> None:
    with pytest.raises(SchemaCompileError, match="2020-12"):
        compile_validator(
            schema={"$schema": "http://json-schema.org/draft-07/schema#"}, uri=URI, resources={}
        )


def test_invalid_regex_is_a_compile_error() -> None:
    with pytest.raises(SchemaCompileError, match="regex"):
        _compile({"pattern": "(["})


def test_compiled_validators_are_cached_by_content() -> None:
    first = _compile(THING)
    assert _compile(copy.deepcopy(THING)) is first
    changed = {**THING, "maxProperties": 10}
    assert _compile(changed) is not first


def test_cache_notices_a_changed_referenced_standard() -> None:
    resources = shipped_resources()
    first = _compile(THING, resources)
    resources[COMMON]["$defs"]["money"]["pattern"] = "^[0-9]+$"
    second = compile_validator(schema={"$schema": DRAFT, **THING}, uri=URI, resources=resources)
    assert second is not first
    record = {"code": GOOD_CODE, "amount": "10.5", "lines": []}
    assert first.is_valid(record)
    assert not second.is_valid(record)


def test_check_schema_accepts_a_valid_schema() -> None:
    assert check_schema({"$schema": DRAFT, "type": "object"}) == []


def test_check_schema_reports_invalid_keywords_with_pointer() -> None:
    issues = check_schema({"$schema": DRAFT, "properties": {"a": {"type": "strang"}}})
    assert issues
    assert all(issue.path.startswith("/properties/a/type") for issue in issues)


def test_check_schema_reports_another_draft() -> None:
    issues = check_schema({"$schema": "http://json-schema.org/draft-07/schema#"})
    assert ("/$schema", "const") in _pairs(issues)


def test_find_refs_lists_every_ref_and_dynamic_ref_but_not_data() -> None:
    schema = {
        "$ref": "#/$defs/a",
        "$defs": {"a": {"items": [{"$dynamicRef": "#node"}], "properties": {"b": {"$ref": "/x"}}}},
        "enum": [{"$ref": "not a reference, just data"}],
        "const": {"$ref": "neither"},
    }
    assert sorted(find_refs(schema)) == ["#/$defs/a", "#node", "/x"]


# -- differential: jsonschema_rs and jsonschema must agree on every record ----------------

_BAD_VALUES: list[object] = [None, 12345, 1.5, True, "", "x" * 1001, [], {}]


def _mutations(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield many near-miss variants of a valid record."""
    for key in record:
        dropped = copy.deepcopy(record)
        del dropped[key]
        yield dropped
        for bad in _BAD_VALUES:
            yield {**copy.deepcopy(record), key: bad}
    yield {**copy.deepcopy(record), "unexpected": "x"}
    for value in ("1\n", "12.123456", "-0.5", "1e3", "１２", "00000000000000.00001"):
        for key in ("goodsValue", "amountPaid", "charge", "freight", "weight"):
            if key in record:
                yield {**copy.deepcopy(record), key: value}
    for key in ("ebpCode", "payCode", "logisticsCode", "agentCode", "code"):
        if key in record:
            code = record[key]
            wrong = "0" if code[-1] != "0" else "1"
            yield {**copy.deepcopy(record), key: code[:-1] + wrong}
            yield {**copy.deepcopy(record), key: code.lower()}
            yield {**copy.deepcopy(record), key: "3203960ABC"}
    for key in ("appTime", "payTime", "statusTime", "returnTime", "accountingDate"):
        if key in record:
            for value in ("20241301000000", "20240230246060", "2024031510", "20240315101500\n"):
                yield {**copy.deepcopy(record), key: value}
    for value in ("9610", "1210", "1239", "9710", "9810", "0110"):
        if "tradeMode" in record:
            yield {**copy.deepcopy(record), "tradeMode": value}
    for key, values in {"orderType": "IEBWX", "ieFlag": "IEX"}.items():
        if key in record:
            for value in values:
                yield {**copy.deepcopy(record), key: value}
    if "emsNo" in record:
        yield {k: v for k, v in copy.deepcopy(record).items() if k not in ("emsNo",)}
        yield {**copy.deepcopy(record), "emsNo": ""}
    elif "tradeMode" in record and "ieFlag" in record:
        yield {**copy.deepcopy(record), "emsNo": "T2305W000001"}
    if "returnStatus" in record:
        for value in (100, 120, 300, 399, 500, 501, 599, 600, 700, 800, 899, 0, -1, -999, 800.0):
            yield {**copy.deepcopy(record), "returnStatus": value}
    if "roles" in record:
        for value in ([], ["ebp", "ebp"], ["ebp", "bank"], ["logistics"]):
            yield {**copy.deepcopy(record), "roles": value}
    items = record.get("items")
    if isinstance(items, list) and items:
        yield {**copy.deepcopy(record), "items": []}
        yield {**copy.deepcopy(record), "items": copy.deepcopy(items[:1]) * 99}
        yield {**copy.deepcopy(record), "items": copy.deepcopy(items[:1]) * 100}
        yield {**copy.deepcopy(record), "items": ["not a line"]}
        for key in items[0]:
            mutated = copy.deepcopy(record)
            del mutated["items"][0][key]
            yield mutated
            for bad in (*_BAD_VALUES, 0, 99, 100, 1.0, "1"):
                mutated = copy.deepcopy(record)
                mutated["items"][0][key] = bad
                yield mutated
        for gcode in ("19011010", "190110101X", "1901101010\n"):
            mutated = copy.deepcopy(record)
            mutated["items"][-1]["gcode"] = gcode
            yield mutated
        mutated = copy.deepcopy(record)
        mutated["items"][0]["itemRecordNo"] = "T2305W000001"
        yield mutated
        mutated = copy.deepcopy(record)
        mutated["items"][0]["colour"] = "red"
        yield mutated


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    corpus = []
    for standard_id, _name, record in all_samples():
        corpus.append((standard_id, record))
        corpus.extend((standard_id, mutated) for mutated in _mutations(record))
    return corpus


def test_rust_and_reference_engines_agree_on_every_record() -> None:
    corpus = _corpus()
    assert len(corpus) > 3000
    accepted = rejected = 0
    disagreements = []
    for standard_id, record in corpus:
        validator = shipped_validator(standard_id)
        fast = validator.is_valid(record)
        reference = validator._python.is_valid(record)
        errors = validator.errors(record)
        if fast != reference or fast == bool(errors):
            disagreements.append((standard_id, fast, reference, errors, record))
        accepted += fast
        rejected += not fast
    assert disagreements == []
    # The corpus must exercise both outcomes in earnest.
    assert accepted > 200
    assert rejected > 2000


def test_ref_with_sibling_keywords_keeps_both_constraints() -> None:
    schema = {
        "$defs": {"a": {"type": "string", "maxLength": 10}},
        "properties": {"x": {"$ref": "#/$defs/a", "maxLength": 3}},
    }
    validator = _compile(schema)
    assert not validator.is_valid({"x": "abcd"})
    assert _pairs(validator.errors({"x": "abcd"})) == [("/x", "maxLength")]
    assert _pairs(validator.errors({"x": "a" * 11})) == [("/x", "maxLength"), ("/x", "maxLength")]


def test_recursive_schema_is_validated_through_references() -> None:
    schema = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
            }
        },
        "$ref": "#/$defs/node",
    }
    assert inline_refs(schema=schema, uri=URI, documents={}) is None
    tree = {"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]}
    assert _pairs(_compile(schema).errors(tree)) == [("/children/0/children/0/name", "type")]


def test_shipped_standards_inline_completely() -> None:
    resources = shipped_resources()
    for uri, schema in resources.items():
        inlined = inline_refs(schema=schema, uri=uri, documents=resources)
        assert inlined is not None
        assert find_refs(inlined) == []
