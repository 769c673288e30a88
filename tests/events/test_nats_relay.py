"""The NATS JetStream relay against the local server: killed mid-stream and restarted, the
stream holds every event once, in order, per department subject; a second relay waits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from starlette.applications import Starlette

from hub.config import Settings
from hub.events import relay
from hub.events.models import Event, EventCursor
from tests.builders.parties import Actors, hub_actors, import_set
from tests.events.helpers import settled

__all__ = ["hub_actors"]

NATS_URL = os.environ.get("HUB_TEST_NATS_URL", "nats://127.0.0.1:4222")
HUB = str(Path(sys.executable).with_name("hub"))
# What each department reads (hub/access/policy.py): the kinds' categories decide.
EXPECTED_CATEGORIES = {
    "customs": {"order", "payment", "logistics", "clearance", "registration"},
    "tax": {"order", "payment", "clearance", "registration"},
    "market": {"registration"},
}


@pytest.fixture
async def js() -> AsyncIterator[Any]:
    try:
        connection = await nats.connect(NATS_URL, connect_timeout=3, max_reconnect_attempts=0)
    except Exception:
        if os.environ.get("CI"):
            pytest.fail(f"NATS is required in CI ({NATS_URL})")
        pytest.skip(f"no NATS server at {NATS_URL}")
    yield connection.jetstream()
    await connection.close()


@pytest.fixture
async def stream(js: Any) -> AsyncIterator[tuple[str, str]]:
    """A stream and subject prefix of this test's own (tests run in parallel)."""
    tag = uuid.uuid4().hex[:10]
    name, prefix = f"HUB_EVENTS_T{tag}", f"t{tag}.events"
    await relay.ensure_stream(js, stream=name, prefix=prefix)
    yield name, prefix
    await js.delete_stream(name)


async def _messages(js: Any, name: str) -> list[Any]:
    info = await js.stream_info(name)
    return [await js.get_msg(name, seq) for seq in range(1, info.state.last_seq + 1)]


def _expected(events: list[Event], department: str) -> list[str]:
    wanted = EXPECTED_CATEGORIES[department]
    return [
        str(e.position)
        for e in events
        if e.kind.startswith("standard.")
        or (e.category in wanted and not e.kind.startswith("consent."))
    ]


async def _cursor(app: Starlette) -> int:
    async with app.state.runtime.session_factory() as session:
        row = await session.get(EventCursor, relay.CURSOR)
        return row.position if row else 0


async def _start(settings: Settings, name: str, prefix: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "HUB_DATABASE_URL": settings.database_url, "HUB_ISSUER": settings.issuer}
    return await asyncio.create_subprocess_exec(
        HUB, "events", "relay", "--nats", NATS_URL, "--stream", name,
        "--subject-prefix", prefix, "--batch", "2", "--lease-seconds", "1",
        env=env,
    )  # fmt: skip


async def test_a_relay_killed_mid_stream_resumes_without_gap_or_duplicate(
    hub_actors: Actors, app: Starlette, settings: Settings, js: Any, stream: tuple[str, str]
) -> None:
    name, prefix = stream
    for n in range(8):
        await hub_actors.file_all(import_set(f"XZ-NATS-{n:04d}"))
    events = await settled(app.state.runtime.session_factory)
    head = int(events[-1].position or 0)
    first = await _start(settings, name, prefix)
    try:
        for _ in range(1000):
            if await _cursor(app) >= 6:
                break
            await asyncio.sleep(0.01)
        first.kill()  # SIGKILL: no clean shutdown, its lease stays until it expires
    finally:
        await first.wait()
    killed_at = await _cursor(app)
    assert 0 < killed_at < head, "the relay must be killed mid-stream"
    second = await _start(settings, name, prefix)
    try:
        for _ in range(1500):
            if await _cursor(app) == head:
                break
            await asyncio.sleep(0.02)
        assert await _cursor(app) == head
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()
    by_subject: dict[str, list[str]] = {}
    ids = []
    for message in await _messages(js, name):
        document = json.loads(message.data)
        department = message.subject.split(".")[2]
        assert message.subject == relay.subject(department, document["kind"], prefix)
        by_subject.setdefault(department, []).append(document["cursor"])
        ids.append(message.headers["Nats-Msg-Id"])
        assert "buyerName" not in message.data.decode()
    assert len(ids) == len(set(ids))
    for department in EXPECTED_CATEGORIES:
        assert by_subject.get(department, []) == _expected(events, department), department


async def test_a_second_relay_stays_passive(
    hub_actors: Actors, app: Starlette, js: Any, stream: tuple[str, str]
) -> None:
    name, prefix = stream
    await hub_actors.file_all(import_set("XZ-NATS-PASSIVE"), "order")
    events = await settled(app.state.runtime.session_factory)
    factory = app.state.runtime.session_factory
    leader = relay.Relay(factory, js, "http://hub.test", stream=name, prefix=prefix, batch=1000)
    standby = relay.Relay(factory, js, "http://hub.test", stream=name, prefix=prefix, batch=1000)
    assert await leader.step() == len(events) and leader.leading
    assert await standby.step() == 0 and not standby.leading
    # Even a standby that somehow published again adds nothing: JetStream drops the ids.
    before = (await js.stream_info(name)).state.messages
    async with factory() as session:
        again = await session.get(Event, events[0].id)
    assert again is not None
    ack = await js.publish(
        relay.subject("customs", again.kind, prefix),
        b"{}",
        stream=name,
        headers={"Nats-Msg-Id": relay.message_id(again, "customs")},
    )
    assert ack.duplicate and (await js.stream_info(name)).state.messages == before
