"""$ref across standards, never over the network; raw schemas over HTTP; resolution."""

from __future__ import annotations

import copy
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.canonical import content_hash
from hub.db import unit_of_work
from hub.standards import service
from hub.standards.errors import StandardErrorCode, StandardsError, StandardsErrors

Gql = Callable[..., Awaitable[dict[str, Any]]]
Token = Callable[..., Awaitable[str]]

COMMON: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"code": {"type": "string", "pattern": "^[0-9]{4}$"}},
}
PORT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "portCode": {
            "$ref": "/standards/zone.common/1.0.0#/$defs/code",
            "x-hub-category": "clearance",
        }
    },
    "required": ["portCode"],
    "additionalProperties": False,
}
_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture
def no_remote_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Records (and refuses) any lookup or connection to a non-loopback host."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in _LOCAL_HOSTS:
            attempts.append(address)
            raise OSError("network refused by test")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOCAL_HOSTS and host is not None:
            attempts.append(host)
            raise OSError("name lookup refused by test")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


async def _publish(app: Starlette, sid: str, version: str, schema: Any) -> Any:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        try:
            await service.get_standard(session=session, standard_id=sid)
        except StandardsError:
            await service.create_standard(
                session=session, standard_id=sid, title=sid, owner="Zone office", actor="test"
            )
        return await service.publish_version(
            session=session, standard_id=sid, version=version, schema=schema, actor="test"
        )


async def _refusal(app: Starlette, sid: str, schema: Any) -> list[StandardsError]:
    with pytest.raises((StandardsError, StandardsErrors)) as caught:
        await _publish(app, sid, "1.0.0", schema)
    exc = caught.value
    return exc.errors if isinstance(exc, StandardsErrors) else [exc]


async def test_a_ref_into_another_published_standard_resolves_and_validates(
    app: Starlette,
) -> None:
    await _publish(app, "zone.common", "1.0.0", COMMON)
    result = await _publish(app, "zone.port", "1.0.0", PORT)
    runtime = app.state.runtime
    async with runtime.session_factory() as session:
        validator = await runtime.validators.get(session=session, version=result.version)
    assert validator.is_valid({"portCode": "2301"})
    assert not validator.is_valid({"portCode": "23A1"})
    [issue] = validator.errors({"portCode": "23A1"})
    assert issue.path == "/portCode"
    assert issue.keyword == "pattern"


async def test_a_remote_ref_is_refused_without_any_connection_attempt(
    app: Starlette, no_remote_network: list[object]
) -> None:
    remote = copy.deepcopy(PORT)
    remote["properties"]["portCode"] = {"$ref": "https://schemas.example.com/code.json"}
    [error] = await _refusal(app, "zone.port", remote)
    assert error.code == StandardErrorCode.REMOTE_REF
    assert error.path == "/properties/portCode/$ref"
    assert no_remote_network == []


async def test_a_ref_to_an_unpublished_standard_is_refused(app: Starlette) -> None:
    [error] = await _refusal(app, "zone.port", PORT)
    assert error.code == StandardErrorCode.UNRESOLVED_REF
    assert "zone.common/1.0.0" in error.message


async def test_resolution_picks_the_newest_published_and_handles_each_state(
    app: Starlette,
) -> None:
    await _publish(app, "zone.common", "1.0.0", COMMON)
    wider = copy.deepcopy(COMMON)
    wider["$defs"]["code"]["description"] = "customs code"
    await _publish(app, "zone.common", "1.1.0", wider)
    factory = app.state.runtime.session_factory
    async with unit_of_work(factory) as session:
        assert (await service.resolve(session=session, ref="zone.common")).version.version == (
            "1.1.0"
        )
        await service.deprecate_version(session=session, standard_id="zone.common", version="1.0.0")
        deprecated = await service.resolve(session=session, ref="zone.common@1.0.0")
        assert deprecated.warnings and "deprecated" in deprecated.warnings[0]
        await service.retire_version(
            session=session, standard_id="zone.common", version="1.0.0", successor="1.1.0"
        )
        with pytest.raises(StandardsError) as retired:
            await service.resolve(session=session, ref="zone.common@1.0.0")
        assert retired.value.code == StandardErrorCode.RETIRED
        assert "zone.common@1.1.0" in retired.value.message
        for ref, code in (
            ("zone.nothing", StandardErrorCode.UNKNOWN_STANDARD),
            ("zone.common@7.0.0", StandardErrorCode.UNKNOWN_VERSION),
            ("zone.common@7", StandardErrorCode.INVALID_VERSION),
            ("NOT AN ID", StandardErrorCode.INVALID_STANDARD_ID),
        ):
            with pytest.raises(StandardsError) as refused:
                await service.resolve(session=session, ref=ref)
            assert refused.value.code == code


async def test_raw_schema_is_served_as_schema_json_with_its_own_url_as_id(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    await _publish(app, "zone.common", "1.0.0", COMMON)
    await _publish(app, "zone.port", "1.0.0", PORT)
    response = await http.get("/standards/zone.port/1.0.0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    body = response.json()
    assert body["$id"] == "http://hub.test/standards/zone.port/1.0.0"
    assert body["properties"] == PORT["properties"]
    # The path-absolute ref resolves against the served $id to the served common schema.
    target = httpx.URL(body["$id"]).join(body["properties"]["portCode"]["$ref"].split("#")[0])
    assert (await http.get(target.path)).json()["$defs"] == COMMON["$defs"]
    assert response.headers["etag"] == f'"{content_hash(PORT)}"'


async def test_unknown_and_draft_versions_are_not_served(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await service.create_standard(
            session=session, standard_id="zone.common", title="c", owner="o", actor="t"
        )
        await service.save_draft(
            session=session, standard_id="zone.common", version="1.0.0", schema=COMMON, actor="t"
        )
    draft = await http.get("/standards/zone.common/1.0.0")
    assert draft.status_code == 404
    assert draft.json()["error"] == "NOT_PUBLISHED"
    assert (await http.get("/standards/zone.none/1.0.0")).status_code == 404
