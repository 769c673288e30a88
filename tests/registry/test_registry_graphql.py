"""The registry through GraphQL: lifecycle rules, publishing refusals, reports."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hub.canonical import content_hash

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

CREATE = """
mutation($input: CreateStandardInput!) {
  createStandard(input: $input) {
    standard { id title owner compatibility versions { version } }
    errors { code path message }
  }
}"""
PUBLISH = """
mutation($input: PublishStandardVersionInput!) {
  publishStandardVersion(input: $input) {
    version { standardId version state contentHash url schema }
    duplicate
    report {
      mode compatible checkedAgainst
      changes { pointer kind compatible backward message against }
    }
    errors { code path message }
  }
}"""
DRAFT = """
mutation($input: StandardVersionInput!) {
  saveStandardDraft(input: $input) { version { version state contentHash } errors { code message } }
}"""
CHECK = """
mutation($input: StandardVersionInput!) {
  checkCompatibility(input: $input) {
    report {
      mode compatible checkedAgainst
      changes { pointer kind compatible backward forward message }
    }
    errors { code path message }
  }
}"""
DEPRECATE = """
mutation($id: String!, $v: String!) {
  deprecateStandardVersion(standardId: $id, version: $v) {
    version { version state deprecatedAt } errors { code message }
  }
}"""
RETIRE = """
mutation($id: String!, $v: String!, $s: String!) {
  retireStandardVersion(standardId: $id, version: $v, successor: $s) {
    version { version state successor retiredAt } errors { code path message }
  }
}"""
STANDARD = """
query($id: String!) {
  standard(id: $id) {
    id compatibility
    latest { version }
    versions { version state contentHash changeReport { compatible checkedAgainst } }
  }
}"""

PARCEL_V1: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Parcel",
    "type": "object",
    "properties": {"parcelNo": {"type": "string", "maxLength": 20, "x-hub-category": "logistics"}},
    "required": ["parcelNo"],
    "additionalProperties": False,
}


def with_property(schema: dict[str, Any], name: str, *, required: bool) -> dict[str, Any]:
    changed = copy.deepcopy(schema)
    changed["properties"][name] = {"type": "string", "x-hub-category": "logistics"}
    if required:
        changed["required"] = [*changed["required"], name]
    return changed


@pytest.fixture
async def admin(get_token: Token) -> str:
    return await get_token(scopes="standards:write", name="Registry admin")


@pytest.fixture
def registry(gql: Gql, admin: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def call(query: str, **variables: Any) -> dict[str, Any]:
        body = await gql(query, token=admin, variables=variables)
        assert "errors" not in body, body
        data: dict[str, Any] = next(iter(body["data"].values()))
        return data

    return call


async def _create(registry: Any, sid: str = "zone.parcel", mode: str = "BACKWARD") -> None:
    result = await registry(
        CREATE,
        input={"id": sid, "title": "Parcel", "owner": "Zone office", "compatibility": mode},
    )
    assert result["errors"] == []


async def _publish(registry: Any, version: str, schema: Any, sid: str = "zone.parcel") -> Any:
    return await registry(PUBLISH, input={"standardId": sid, "version": version, "schema": schema})


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["errors"]]


async def test_registry_mutations_need_the_standards_write_scope(
    gql: Gql, get_token: Token
) -> None:
    customs = await get_token(scopes="customs:read")
    body = await gql(
        CREATE, token=customs, variables={"input": {"id": "zone.x", "title": "X", "owner": "Y"}}
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "standards:write" in body["errors"][0]["message"]


async def test_create_standard_defaults_to_backward_and_refuses_duplicates(
    registry: Any,
) -> None:
    created = await registry(
        CREATE, input={"id": "zone.parcel", "title": "Parcel", "owner": "Zone office"}
    )
    assert created["standard"]["compatibility"] == "BACKWARD"
    again = await registry(
        CREATE, input={"id": "zone.parcel", "title": "Parcel", "owner": "Zone office"}
    )
    assert codes(again) == ["STANDARD_EXISTS"]
    assert again["standard"] is None


@pytest.mark.parametrize("bad_id", ["Order", "cbec", "cbec..order", "cbec.order!", "x" * 200])
async def test_create_standard_refuses_malformed_ids(registry: Any, bad_id: str) -> None:
    result = await registry(CREATE, input={"id": bad_id, "title": "t", "owner": "o"})
    assert codes(result) == ["INVALID_STANDARD_ID"]


async def test_publish_stores_the_canonical_hash_and_republishing_is_idempotent(
    registry: Any,
) -> None:
    await _create(registry)
    first = await _publish(registry, "1.0.0", PARCEL_V1)
    assert first["errors"] == []
    assert first["duplicate"] is False
    assert first["version"]["state"] == "PUBLISHED"
    assert first["version"]["contentHash"] == content_hash(PARCEL_V1)
    assert first["version"]["url"] == "http://hub.test/standards/zone.parcel/1.0.0"

    reordered = dict(reversed(list(PARCEL_V1.items())))  # same content, other key order
    again = await _publish(registry, "1.0.0", reordered)
    assert again["errors"] == []
    assert again["duplicate"] is True
    assert again["version"]["contentHash"] == first["version"]["contentHash"]


async def test_different_content_under_a_published_version_is_refused(registry: Any) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    changed = with_property(PARCEL_V1, "note", required=False)
    result = await _publish(registry, "1.0.0", changed)
    assert codes(result) == ["VERSION_EXISTS"]
    state = await registry(STANDARD, id="zone.parcel")
    assert state["versions"][0]["contentHash"] == content_hash(PARCEL_V1)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0-beta", "01.0.0", ""])
async def test_versions_must_be_semver(registry: Any, version: str) -> None:
    await _create(registry)
    assert codes(await _publish(registry, version, PARCEL_V1)) == ["INVALID_VERSION"]


async def test_publishing_to_an_unknown_standard_is_refused(registry: Any) -> None:
    result = await _publish(registry, "1.0.0", PARCEL_V1, sid="zone.nothing")
    assert codes(result) == ["UNKNOWN_STANDARD"]


async def test_a_schema_that_is_not_valid_json_schema_is_refused_with_pointers(
    registry: Any,
) -> None:
    await _create(registry)
    broken = copy.deepcopy(PARCEL_V1)
    broken["properties"]["parcelNo"]["maxLength"] = -1
    broken["required"] = "parcelNo"
    result = await _publish(registry, "1.0.0", broken)
    assert set(codes(result)) == {"INVALID_SCHEMA"}
    paths = {e["path"] for e in result["errors"]}
    assert "/properties/parcelNo/maxLength" in paths
    assert "/required" in paths
    assert (await registry(STANDARD, id="zone.parcel"))["versions"] == []


@pytest.mark.parametrize(
    "schema",
    [[1, 2], {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}],
)
async def test_non_object_or_other_draft_schemas_are_refused(registry: Any, schema: Any) -> None:
    await _create(registry)
    assert set(codes(await _publish(registry, "1.0.0", schema))) == {"INVALID_SCHEMA"}


async def test_a_schema_carrying_its_own_id_is_refused(registry: Any) -> None:
    await _create(registry)
    result = await _publish(registry, "1.0.0", {**PARCEL_V1, "$id": "https://x.test/s"})
    assert codes(result) == ["INVALID_SCHEMA"]
    assert result["errors"][0]["path"] == "/$id"


async def test_minor_version_adding_an_optional_property_to_a_closed_object_is_compatible(
    registry: Any,
) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    result = await _publish(registry, "1.1.0", with_property(PARCEL_V1, "note", required=False))
    assert result["errors"] == []
    report = result["report"]
    assert report["mode"] == "BACKWARD"
    assert report["compatible"] is True
    assert report["checkedAgainst"] == ["1.0.0"]
    added = [c for c in report["changes"] if c["pointer"] == "/properties/note"]
    assert added and added[0]["compatible"] is True and added[0]["against"] == "1.0.0"


async def test_minor_version_adding_a_required_property_is_refused_as_incompatible(
    registry: Any,
) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    result = await _publish(registry, "1.1.0", with_property(PARCEL_V1, "note", required=True))
    assert codes(result) and set(codes(result)) == {"INCOMPATIBLE"}
    assert any("1.0.0" in e["message"] for e in result["errors"])
    versions = (await registry(STANDARD, id="zone.parcel"))["versions"]
    assert [v["version"] for v in versions] == ["1.0.0"]


async def test_a_major_version_may_break(registry: Any) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    result = await _publish(registry, "2.0.0", with_property(PARCEL_V1, "note", required=True))
    assert result["errors"] == []
    assert result["report"]["mode"] == "NONE"
    breaking = [c for c in result["report"]["changes"] if not c["backward"]]
    assert breaking, "the report still lists the breaking change"
    assert all(c["compatible"] for c in result["report"]["changes"])  # NONE allows all
    latest = await registry(STANDARD, id="zone.parcel")
    assert latest["latest"]["version"] == "2.0.0"


async def test_forward_mode_refuses_an_optional_property_on_a_closed_object(
    registry: Any,
) -> None:
    await _create(registry, mode="FORWARD")
    await _publish(registry, "1.0.0", PARCEL_V1)
    result = await _publish(registry, "1.1.0", with_property(PARCEL_V1, "note", required=False))
    assert set(codes(result)) == {"INCOMPATIBLE"}


async def test_transitive_modes_check_every_earlier_version_of_the_major_line(
    registry: Any,
) -> None:
    await _create(registry, sid="zone.transitive", mode="BACKWARD_TRANSITIVE")
    await _create(registry, sid="zone.latest", mode="BACKWARD")
    v11 = with_property(PARCEL_V1, "note", required=False)
    v12 = with_property(v11, "memo", required=False)
    for sid in ("zone.transitive", "zone.latest"):
        await _publish(registry, "1.0.0", PARCEL_V1, sid=sid)
        await _publish(registry, "1.1.0", v11, sid=sid)
        result = await _publish(registry, "1.2.0", v12, sid=sid)
        assert result["errors"] == []
        expected = ["1.0.0", "1.1.0"] if sid == "zone.transitive" else ["1.1.0"]
        assert result["report"]["checkedAgainst"] == expected


async def test_check_compatibility_reports_without_publishing(registry: Any) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    candidate = with_property(PARCEL_V1, "note", required=True)
    result = await registry(
        CHECK, input={"standardId": "zone.parcel", "version": "1.1.0", "schema": candidate}
    )
    assert result["errors"] == []
    report = result["report"]
    assert report["compatible"] is False
    incompatible = [c for c in report["changes"] if not c["compatible"]]
    assert incompatible and all(c["message"] and c["pointer"] for c in incompatible)
    assert not incompatible[0]["backward"]
    versions = (await registry(STANDARD, id="zone.parcel"))["versions"]
    assert [v["version"] for v in versions] == ["1.0.0"]


async def test_drafts_are_editable_and_publish_without_resending_the_schema(
    registry: Any,
) -> None:
    await _create(registry)
    draft = await registry(
        DRAFT, input={"standardId": "zone.parcel", "version": "1.0.0", "schema": PARCEL_V1}
    )
    assert draft["version"]["state"] == "DRAFT"
    edited = with_property(PARCEL_V1, "note", required=False)
    draft = await registry(
        DRAFT, input={"standardId": "zone.parcel", "version": "1.0.0", "schema": edited}
    )
    assert draft["version"]["contentHash"] == content_hash(edited)
    published = await registry(PUBLISH, input={"standardId": "zone.parcel", "version": "1.0.0"})
    assert published["errors"] == []
    assert published["version"]["contentHash"] == content_hash(edited)
    again = await registry(
        DRAFT, input={"standardId": "zone.parcel", "version": "1.0.0", "schema": PARCEL_V1}
    )
    assert codes(again) == ["IMMUTABLE_VERSION"]


async def test_lifecycle_deprecate_then_retire_naming_a_successor(registry: Any) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    await _publish(registry, "1.1.0", with_property(PARCEL_V1, "note", required=False))

    deprecated = await registry(DEPRECATE, id="zone.parcel", v="1.0.0")
    assert deprecated["version"]["state"] == "DEPRECATED"
    assert deprecated["version"]["deprecatedAt"]
    assert codes(await registry(DEPRECATE, id="zone.parcel", v="1.0.0")) == ["ILLEGAL_TRANSITION"]

    for successor, path in (("1.0.0", "/successor"), ("9.9.9", "/successor")):
        refused = await registry(RETIRE, id="zone.parcel", v="1.0.0", s=successor)
        assert codes(refused) == ["INVALID_SUCCESSOR"]
        assert refused["errors"][0]["path"] == path

    retired = await registry(RETIRE, id="zone.parcel", v="1.0.0", s="1.1.0")
    assert retired["version"]["state"] == "RETIRED"
    assert retired["version"]["successor"] == "1.1.0"
    assert codes(await registry(RETIRE, id="zone.parcel", v="1.0.0", s="1.1.0")) == [
        "ILLEGAL_TRANSITION"
    ]
    assert codes(await registry(DEPRECATE, id="zone.parcel", v="1.0.0")) == ["ILLEGAL_TRANSITION"]


async def test_a_successor_must_be_published(registry: Any) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    await registry(
        DRAFT,
        input={
            "standardId": "zone.parcel",
            "version": "1.1.0",
            "schema": with_property(PARCEL_V1, "note", required=False),
        },
    )
    refused = await registry(RETIRE, id="zone.parcel", v="1.0.0", s="1.1.0")
    assert codes(refused) == ["INVALID_SUCCESSOR"]
    assert "DRAFT" in refused["errors"][0]["message"]


async def test_drafts_cannot_be_deprecated_or_retired(registry: Any) -> None:
    await _create(registry)
    await registry(
        DRAFT, input={"standardId": "zone.parcel", "version": "1.0.0", "schema": PARCEL_V1}
    )
    assert codes(await registry(DEPRECATE, id="zone.parcel", v="1.0.0")) == ["ILLEGAL_TRANSITION"]
    assert codes(await registry(DEPRECATE, id="zone.parcel", v="3.0.0")) == ["UNKNOWN_VERSION"]


async def test_standards_query_needs_only_a_token_and_lists_versions(
    registry: Any, gql: Gql, get_token: Token
) -> None:
    await _create(registry)
    await _publish(registry, "1.0.0", PARCEL_V1)
    reader = await get_token(scopes="market:read")
    body = await gql("{ standards { id versions { version state } } }", token=reader)
    assert body["data"]["standards"] == [
        {"id": "zone.parcel", "versions": [{"version": "1.0.0", "state": "PUBLISHED"}]}
    ]
    missing = await gql('{ standard(id: "zone.none") { id } }', token=reader)
    assert missing["data"]["standard"] is None
