"""Subscriptions with real clients: replay then live, reconnects and a restart lose and
repeat nothing, and each event passes the policy at delivery time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.access.models import AccessEvent
from hub.config import Settings
from hub.db import unit_of_work
from hub.standards.shipped import publish_shipped
from tests.builders.parties import PLATFORM, SELLER, Actors, import_set
from tests.events.clients import Served, WsSubscriber, serving, sse_events
from tests.events.helpers import grant_consent, revoke_consent, settled


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    async with serving(settings) as hub:
        async with unit_of_work(hub.app.state.runtime.session_factory) as session:
            await publish_shipped(session=session, actor="test")
        yield hub


def actors_of(hub: Served, http: httpx.AsyncClient, register: Any, tokens: Actors | None) -> Actors:
    actors = Actors(http=http, register=register, app=hub.app)
    if tokens is not None:  # the same clients across a restart
        actors.tokens, actors.client_ids = tokens.tokens, tokens.client_ids
    return actors


async def _committed(hub: Served, kinds: set[str]) -> list[tuple[str, str]]:
    events = await settled(hub.app.state.runtime.session_factory)
    return [(str(e.position), e.kind) for e in events if e.kind in kinds]


def _pairs(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    from hub.events.kinds import EventKind

    return [(e["cursor"], EventKind[e["kind"]].value) for e in events]


RECORD_AND_REGISTRY = {
    "declaration.accepted",
    "order.matching_changed",
    "customs.status_changed",
    "standard.published",
}


async def test_websocket_subscriber_resumes_across_reconnects_and_a_restart(
    settings: Settings, register_client: Callable[..., Awaitable[Any]]
) -> None:
    received: list[dict[str, Any]] = []
    async with serving(settings) as hub:
        async with unit_of_work(hub.app.state.runtime.session_factory) as session:
            await publish_shipped(session=session, actor="test")
        async with httpx.AsyncClient(base_url=hub.base_url) as http:
            actors = actors_of(hub, http, register_client, None)
            token = await actors.reader("customs:read")
            published = len(await _committed(hub, RECORD_AND_REGISTRY))
            async with WsSubscriber.open(hub.ws_url, token=token) as sub:
                received += await sub.take(published)  # the replay
                first = import_set("XZ-WS-0001")
                await actors.file_all(first, "order", "payment")
                received += await sub.take(2)  # live
            # Disconnected: more happens meanwhile.
            await actors.file_all(first, "waybill", "inventory", "status")
            async with WsSubscriber.open(
                hub.ws_url, token=token, after=received[-1]["cursor"]
            ) as sub:
                missed = len(await _committed(hub, RECORD_AND_REGISTRY)) - len(received)
                received += await sub.take(missed)
            tokens = actors
    # The hub restarts; events committed while it was down are not lost either.
    async with serving(settings) as hub, httpx.AsyncClient(base_url=hub.base_url) as http:
        actors = actors_of(hub, http, register_client, tokens)
        await actors.file_all(import_set("XZ-WS-0002"), "order", "payment")
        async with WsSubscriber.open(hub.ws_url, token=token, after=received[-1]["cursor"]) as sub:
            committed = await _committed(hub, RECORD_AND_REGISTRY)
            received += await sub.take(len(committed) - len(received))
            assert await sub.quiet(0.5) == []  # nothing more, nothing twice
    assert _pairs(received) == committed
    assert len({e["cursor"] for e in received}) == len(received)


async def test_sse_subscriber_resumes_from_its_cursor(
    served: Served, register_client: Callable[..., Awaitable[Any]]
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        actors = actors_of(served, http, register_client, None)
        token = await actors.reader("customs:read")
        received: list[dict[str, Any]] = []
        kinds = ["DECLARATION_ACCEPTED"]
        await actors.file_all(import_set("XZ-SSE-0001"), "order", "payment")
        async with sse_events(http, token=token, kinds=kinds) as stream:
            async for payload in stream:
                received.append(payload["data"]["events"])
                if len(received) == 2:
                    break
        await actors.file_all(import_set("XZ-SSE-0002"), "order")
        async with sse_events(
            http, token=token, kinds=kinds, after=received[-1]["cursor"]
        ) as stream:
            async for payload in stream:
                received.append(payload["data"]["events"])
                break
        assert _pairs(received) == await _committed(served, {"declaration.accepted"})


async def test_market_supervision_never_receives_payment_or_order_events(
    served: Served, register_client: Callable[..., Awaitable[Any]]
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        actors = actors_of(served, http, register_client, None)
        token = await actors.reader("market:read")
        await actors.file_all(import_set("XZ-MKT-0001"))
        committed = await settled(served.app.state.runtime.session_factory)
        async with WsSubscriber.open(served.ws_url, token=token) as sub:
            got = await sub.take(sum(e.kind == "standard.published" for e in committed))
            assert await sub.quiet(1.0) == []
        assert {e["kind"] for e in got} == {"STANDARD_PUBLISHED"}


async def test_a_banks_stream_stops_at_revocation(
    served: Served, register_client: Callable[..., Awaitable[Any]]
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        actors = actors_of(served, http, register_client, None)
        consent = await grant_consent(actors, enterprise=SELLER)
        bank = await actors.reader("finance:read")
        async with WsSubscriber.open(
            served.ws_url, token=bank, kinds=["DECLARATION_ACCEPTED", "CONSENT_REVOKED"]
        ) as sub:
            await actors.file_all(import_set("XZ-BANK-0001"), "order", "payment")
            got = await sub.take(2)
            assert [e["record"]["standard"] for e in got] == ["cbec.order", "cbec.payment"]
            await revoke_consent(actors, enterprise=SELLER, consent_id=consent)
            revoked = await sub.take(1)
            assert revoked[0]["kind"] == "CONSENT_REVOKED"
            await actors.file_all(import_set("XZ-BANK-0001"), "waybill", "inventory")
            await actors.file_all(import_set("XZ-BANK-0002"), "order")
            assert await sub.quiet(1.5) == []
        # Each delivered batch is in the access log, naming the enterprises.
        async with served.app.state.runtime.session_factory() as session:
            logged = list(
                await session.scalars(
                    select(AccessEvent).where(AccessEvent.operation_type == "subscription")
                )
            )
        assert logged and all(e.client_id == actors.client_ids["finance:read"] for e in logged)
        assert any(
            SELLER in (e.enterprises or []) and PLATFORM in (e.enterprises or []) for e in logged
        )


async def test_queries_cannot_bypass_http_over_the_websocket(
    served: Served, register_client: Callable[..., Awaitable[Any]]
) -> None:
    import json

    import websockets

    async with httpx.AsyncClient(base_url=served.base_url) as http:
        token = await actors_of(served, http, register_client, None).reader("customs:read")
    async with websockets.connect(served.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "q",
                    "type": "subscribe",
                    "payload": {"query": "{ orders(first: 5) { edges { cursor } } }"},
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply["type"] == "error" and "data" not in reply.get("payload", {}), reply


async def test_a_websocket_without_a_valid_token_is_refused(served: Served) -> None:
    import json

    import websockets

    async with websockets.connect(served.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_bad_cursor_is_a_coded_error(
    served: Served, register_client: Callable[..., Awaitable[Any]]
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as http:
        token = await actors_of(served, http, register_client, None).reader("customs:read")
        for cursor in ("-1", "abc", "9" * 30):
            response = await http.post(
                "/graphql",
                json={
                    "query": "subscription($a: String) { events(after: $a) { cursor } }",
                    "variables": {"a": cursor},
                },
                headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
            )
            assert response.status_code == 400, response.text
            error = response.json()["errors"][0]
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "INVALID_CURSOR"}


async def test_websocket_subscriptions_obey_trusted_documents_required(
    settings: Settings, register_client: Callable[..., Awaitable[Any]]
) -> None:
    import dataclasses
    import json

    import websockets

    strict = dataclasses.replace(settings, trusted_documents="required")
    async with serving(strict) as hub:
        async with httpx.AsyncClient(base_url=hub.base_url) as http:
            token = await actors_of(hub, http, register_client, None).reader("customs:read")
        async with websockets.connect(hub.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            query = {"query": "subscription { events { cursor } }"}
            await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": query}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply["type"] == "error", reply
    assert reply["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
