"""Data categories live in the standards: every property carries `x-hub-category`.

The shipped standards are checked against the conventions written here independently of
the annotations (personal data, money on lines, containers), and the registry refuses a
schema whose annotations are missing, unknown, misplaced, contradictory or changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.access.policy import Category
from hub.db import unit_of_work
from hub.paths import STANDARDS_DIR
from hub.standards import service
from hub.standards.categories import (
    CATEGORY_KEYWORD,
    CategoryIssueCode,
    read_categories,
    shipped_categories,
)
from hub.standards.errors import StandardsError, StandardsErrors
from hub.standards.shipped import load_shipped, publish_shipped
from hub.standards.validation import check_schema, schema_uri
from tests.foundation.test_cli import hub

URI = schema_uri("zone.thing", "1.0.0")
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _issues(schema: dict[str, Any], resources: dict[str, Any] | None = None) -> list[Any]:
    _tree, issues = read_categories(schema=schema, uri=URI, resources=resources or {})
    return issues


def _codes(schema: dict[str, Any], resources: dict[str, Any] | None = None) -> set[Any]:
    return {(i.code, i.pointer) for i in _issues(schema, resources)}


def _shipped_documents() -> dict[str, Any]:
    return {
        schema_uri(v.standard_id, v.version): v.schema for s in load_shipped() for v in s.versions
    }


# -- the shipped standards ------------------------------------------------------------------


def _every_property(node: Any, pointer: str = "") -> list[tuple[str, str, Any]]:
    """(pointer, name, schema) of every property of every object schema in a document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("if", "not", "const", "enum"):
                continue
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    found.append((f"{pointer}/properties/{name}", name, sub))
            found += _every_property(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _every_property(value, f"{pointer}/{index}")
    return found


@pytest.mark.parametrize(
    "version",
    [v for s in load_shipped() for v in s.versions],
    ids=lambda v: f"{v.standard_id}@{v.version}",
)
def test_every_shipped_property_is_annotated_and_the_meta_schema_still_accepts_it(
    version: Any,
) -> None:
    documents = _shipped_documents()
    uri = schema_uri(version.standard_id, version.version)
    _tree, issues = read_categories(schema=version.schema, uri=uri, resources=documents)
    assert issues == []
    assert check_schema(version.schema) == []
    for pointer, _name, schema in _every_property(version.schema):
        if "/allOf/" in pointer:
            continue  # conditions refine declared properties and inherit their category
        assert Category(schema[CATEGORY_KEYWORD]), pointer


PERSONAL_PREFIXES = ("buyer", "payer", "consignee")
# Lines that are not goods (docs/standards.md): the waybills of an arrival or departure
# list, the inventories of a summary, the per-line taxes of a tax bill.
NOT_GOODS_LINES = {
    "cbec.arrival": Category.LOGISTICS,
    "cbec.departure": Category.LOGISTICS,
    "cbec.summary-apply": Category.CLEARANCE,
    "cbec.summary-result": Category.CLEARANCE,
    "cbec.tax-bill": Category.TAX,
}


@pytest.mark.parametrize("standard_id", [s.standard_id for s in load_shipped()])
def test_shipped_annotations_follow_the_conventions(standard_id: str) -> None:
    tree = shipped_categories(standard_id)
    leaves = dict(tree.leaves())
    for pointer, category in leaves.items():
        name = pointer.rsplit("/", 1)[-1]
        if name.startswith(PERSONAL_PREFIXES) or (
            standard_id == "cbec.payment" and name == "telephone"
        ):
            assert category is Category.PERSONAL, pointer  # natural persons' data
        elif pointer.startswith("/items/*/") and standard_id not in NOT_GOODS_LINES:
            money = name in ("price", "totalPrice", "currency")
            assert category is (Category.ORDER if money else Category.GOODS), pointer
        else:
            assert category is not Category.PERSONAL, pointer
    if "/items" in leaves:
        # The container of goods lines, or of the lines a list document holds.
        assert leaves["/items"] is NOT_GOODS_LINES.get(standard_id, Category.GOODS)
    if standard_id == "cbec.order":
        assert leaves["/taxTotal"] is Category.TAX
        assert leaves["/goodsValue"] is Category.ORDER


def test_the_shipped_files_are_the_annotated_1_0_0() -> None:
    # The 1.0.0 files gained annotations before any deployment (docs/standards.md).
    order = json.loads((STANDARDS_DIR / "cbec.order" / "1.0.0.json").read_text())
    assert order["properties"]["buyerName"][CATEGORY_KEYWORD] == "personal"
    assert order["$defs"]["orderLine"]["properties"]["price"][CATEGORY_KEYWORD] == "order"


# -- reading categories ---------------------------------------------------------------------


LINE_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "no": {"type": "string", "x-hub-category": "registration"},
        "lines": {
            "type": "array",
            "x-hub-category": "goods",
            "items": {"$ref": "#/$defs/line"},
        },
        "buyer": {
            "$ref": "/standards/zone.common/1.0.0#/$defs/person",
            "x-hub-category": "personal",
        },
    },
    "allOf": [
        {
            "if": {"properties": {"no": {"const": "X"}}},
            "then": {"properties": {"lines": {"minItems": 2}}},
        }
    ],
    "$defs": {
        "line": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "x-hub-category": "goods"},
                "price": {"type": "string", "x-hub-category": "order"},
            },
        }
    },
}
COMMON: dict[str, Any] = {
    "$schema": DRAFT,
    "$defs": {
        "person": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "x-hub-category": "personal"},
                "idNumber": {"type": "string", "x-hub-category": "personal"},
            },
        }
    },
}
RESOURCES = {schema_uri("zone.common", "1.0.0"): COMMON}


def test_categories_follow_refs_into_local_and_other_standards_and_array_items() -> None:
    tree, issues = read_categories(schema=LINE_SCHEMA, uri=URI, resources=RESOURCES)
    assert issues == []
    assert dict(tree.leaves()) == {
        "/no": Category.REGISTRATION,
        "/lines": Category.GOODS,
        "/lines/*/name": Category.GOODS,
        "/lines/*/price": Category.ORDER,
        "/buyer": Category.PERSONAL,
        "/buyer/name": Category.PERSONAL,
        "/buyer/idNumber": Category.PERSONAL,
    }
    assert tree.at("/lines/3/price") is Category.ORDER
    assert tree.at("/nothing") is None


def test_an_unannotated_property_is_named_by_its_pointer() -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    del schema["$defs"]["line"]["properties"]["price"][CATEGORY_KEYWORD]
    assert _codes(schema, RESOURCES) == {
        (CategoryIssueCode.UNANNOTATED_PROPERTY, "/$defs/line/properties/price")
    }


def test_an_unknown_category_value_is_refused() -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    schema["properties"]["no"][CATEGORY_KEYWORD] = "secret"
    [issue] = _issues(schema, RESOURCES)
    assert issue.code is CategoryIssueCode.UNKNOWN_CATEGORY
    assert issue.pointer == "/properties/no/x-hub-category"
    assert "registration, credit" in issue.message


def test_an_unannotated_property_in_another_standard_is_reported_at_the_ref() -> None:
    common = copy.deepcopy(COMMON)
    del common["$defs"]["person"]["properties"]["idNumber"][CATEGORY_KEYWORD]
    [issue] = _issues(LINE_SCHEMA, {schema_uri("zone.common", "1.0.0"): common})
    assert issue.code is CategoryIssueCode.UNANNOTATED_PROPERTY
    assert issue.pointer == "/properties/buyer/$ref"
    assert "zone.common/1.0.0#/$defs/person/properties/idNumber" in issue.message


def test_unused_defs_objects_must_be_annotated_too() -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    schema["$defs"]["spare"] = {"type": "object", "properties": {"x": {"type": "string"}}}
    assert _codes(schema, RESOURCES) == {
        (CategoryIssueCode.UNANNOTATED_PROPERTY, "/$defs/spare/properties/x")
    }


def test_a_condition_may_refine_a_property_but_a_new_one_needs_a_category() -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    schema["allOf"][0]["then"]["properties"]["extra"] = {"type": "string"}
    assert _codes(schema, RESOURCES) == {
        (CategoryIssueCode.UNANNOTATED_PROPERTY, "/allOf/0/then/properties/extra")
    }


def test_a_condition_may_not_give_a_property_another_category() -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    schema["allOf"][0]["then"]["properties"]["lines"][CATEGORY_KEYWORD] = "order"
    assert _codes(schema, RESOURCES) == {
        (CategoryIssueCode.CATEGORY_CONFLICT, "/allOf/0/then/properties/lines/x-hub-category")
    }


@pytest.mark.parametrize(
    ("where", "pointer"),
    [
        (("$defs", "line"), "/$defs/line/x-hub-category"),
        (("properties", "lines", "items"), "/properties/lines/items/x-hub-category"),
        ((), "/x-hub-category"),
    ],
)
def test_an_annotation_anywhere_but_on_a_property_is_refused(
    where: tuple[str, ...], pointer: str
) -> None:
    schema = copy.deepcopy(LINE_SCHEMA)
    node = schema
    for key in where:
        node = node[key]
    node[CATEGORY_KEYWORD] = "goods"
    assert _codes(schema, RESOURCES) == {(CategoryIssueCode.MISPLACED_CATEGORY, pointer)}


def test_a_recursive_schema_has_categories_at_every_depth() -> None:
    tree_schema = {
        "$schema": DRAFT,
        "type": "object",
        "properties": {
            "label": {"type": "string", "x-hub-category": "goods"},
            "children": {"type": "array", "items": {"$ref": "#"}, "x-hub-category": "goods"},
        },
    }
    tree, issues = read_categories(schema=tree_schema, uri=URI, resources={})
    assert issues == []
    assert tree.at("/children/0/children/5/label") is Category.GOODS


# -- publishing refuses what is not annotated -------------------------------------------


async def _publish(app: Starlette, version: str, schema: dict[str, Any]) -> Any:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await publish_shipped(session=session, actor="test")
        try:
            await service.get_standard(session=session, standard_id="zone.thing")
        except StandardsError:
            await service.create_standard(
                session=session, standard_id="zone.thing", title="T", owner="O", actor="t"
            )
        return await service.publish_version(
            session=session, standard_id="zone.thing", version=version, schema=schema, actor="t"
        )


PERSON_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT,
    "type": "object",
    "properties": {
        "code": {
            "$ref": "/standards/cbec.common/1.0.0#/$defs/enterpriseCode",
            "x-hub-category": "registration",
        },
        "name": {"$ref": "/standards/cbec.common/1.0.0#/$defs/personName"},
    },
}


async def test_publishing_refuses_an_unannotated_property_with_its_pointer(app: Starlette) -> None:
    with pytest.raises(StandardsErrors) as refused:
        await _publish(app, "1.0.0", PERSON_SCHEMA)
    [error] = refused.value.errors
    assert (error.code.value, error.path) == ("UNANNOTATED_PROPERTY", "/properties/name")
    async with app.state.runtime.session_factory() as session:
        with pytest.raises(StandardsError):
            await service.get_version(session=session, standard_id="zone.thing", version="1.0.0")


async def test_a_later_version_may_not_change_a_property_category(app: Starlette) -> None:
    first = copy.deepcopy(PERSON_SCHEMA)
    first["properties"]["name"][CATEGORY_KEYWORD] = "personal"
    await _publish(app, "1.0.0", first)
    moved = copy.deepcopy(first)
    moved["properties"]["name"][CATEGORY_KEYWORD] = "registration"
    with pytest.raises(StandardsErrors) as refused:
        await _publish(app, "2.0.0", moved)  # a major may break validation, not categories
    [error] = refused.value.errors
    assert (error.code.value, error.path) == ("CATEGORY_CHANGED", "/name")
    assert "zone.thing@1.0.0" in error.message


def test_the_cli_check_and_publish_name_the_unannotated_property(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert hub("standards", "publish", "--shipped", database_url=url, cwd=tmp_path).returncode == 0
    order = json.loads((STANDARDS_DIR / "cbec.order" / "1.0.0.json").read_text())
    del order["$defs"]["orderLine"]["properties"]["price"][CATEGORY_KEYWORD]
    folder = tmp_path / "cbec.order"
    folder.mkdir()
    (folder / "1.1.0.json").write_text(json.dumps(order))
    for command in ("check", "publish"):
        result = hub(
            "standards", command, str(folder / "1.1.0.json"), database_url=url, cwd=tmp_path
        )
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "UNANNOTATED_PROPERTY" in result.stderr
        assert "/$defs/orderLine/properties/price" in result.stderr
