"""Signed webhooks: verified by the standardwebhooks library, in order, retried with
backoff, dead-lettered, replayable, policy at delivery, and validated URLs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from hub.config import Settings
from hub.events.webhooks import urls
from hub.events.webhooks.dispatcher import backoff
from tests.builders.parties import Actors, hub_actors, import_set
from tests.events.helpers import settled
from tests.events.receiver import Receiver, receiving

__all__ = ["hub_actors"]

REGISTER = """
mutation($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) {
    endpoint { id url kinds cursor } secret errors { code path message }
  }
}"""
LOG = """
{ webhooks { id cursor deliveries { cursor messageId status attempts lastStatusCode } } }
"""
REPLAY = """
mutation($id: ID!, $after: String!) { replayWebhook(id: $id, after: $after) { errors { code } } }
"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Fast retries for the tests: 3 attempts, 50 ms doubling."""
    return Settings(
        database_url=database_url,
        issuer="http://hub.test",
        env="test",
        webhook_max_attempts=3,
        webhook_retry_base_ms=50,
        webhook_interval_ms=50,
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as running:
        yield running


async def _register(
    actors: Actors, receiver: Receiver, *, scopes: str, kinds: list[str], after: str | None = "0"
) -> dict[str, Any]:
    body = await actors.query(
        REGISTER,
        scopes=scopes,
        variables={"input": {"url": receiver.url, "kinds": kinds, "after": after}},
    )
    result: dict[str, Any] = body["data"]["registerWebhook"]
    assert result["errors"] == [], result
    receiver.secret = result["secret"]
    return result


async def test_deliveries_are_signed_and_in_order(
    hub_actors: Actors, receiver: Receiver, app: Starlette
) -> None:
    await _register(hub_actors, receiver, scopes="customs:read", kinds=["DECLARATION_ACCEPTED"])
    docs = import_set("XZ-WH-0001")
    await hub_actors.file_all(docs)
    got = await receiver.wait_for(len(docs))
    events = [
        e
        for e in await settled(app.state.runtime.session_factory)
        if e.kind == "declaration.accepted"
    ]
    assert [m["data"]["cursor"] for m in got] == [str(e.position) for e in events]
    assert {m["type"] for m in got} == {"declaration.accepted"}
    assert receiver.forged == 0
    log = (await hub_actors.query(LOG, scopes="customs:read"))["data"]["webhooks"][0]
    assert {d["status"] for d in log["deliveries"]} == {"DELIVERED"}
    assert log["cursor"] == got[-1]["data"]["cursor"]


async def test_failures_are_retried_with_the_same_id_then_dead_lettered_and_replayed(
    hub_actors: Actors, receiver: Receiver
) -> None:
    made = await _register(
        hub_actors, receiver, scopes="customs:read", kinds=["DECLARATION_ACCEPTED"]
    )
    receiver.fail_next = 2  # the first event succeeds on its third attempt
    docs = import_set("XZ-WH-0002")
    await hub_actors.file_all(docs, "order")
    first = await receiver.wait_for(1)
    assert receiver.attempts == [first[0]["id"]] * 3
    # Now the receiver is down for good: the next event dies after 3 attempts ...
    receiver.fail_always = True
    await hub_actors.file_all(docs, "payment")
    for _ in range(200):
        log = (await hub_actors.query(LOG, scopes="customs:read"))["data"]["webhooks"][0]
        if any(d["status"] == "DEAD" for d in log["deliveries"]):
            break
        await asyncio.sleep(0.05)
    dead = [d for d in log["deliveries"] if d["status"] == "DEAD"]
    assert len(dead) == 1 and dead[0]["attempts"] == 3 and dead[0]["lastStatusCode"] == 500
    # ... and the endpoint moves on: the one after it still arrives once the receiver is back.
    receiver.fail_always = False
    await hub_actors.file_all(docs, "waybill")
    second = await receiver.wait_for(2)
    assert second[1]["data"]["record"]["standard"] == "cbec.waybill"
    # Replay from the first cursor: the dead letter and the rest come again, in order.
    body = await hub_actors.query(
        REPLAY,
        scopes="customs:read",
        variables={"id": made["endpoint"]["id"], "after": first[0]["data"]["cursor"]},
    )
    assert body["data"]["replayWebhook"]["errors"] == []
    replayed = (await receiver.wait_for(4))[2:]
    assert [m["data"]["record"]["standard"] for m in replayed] == ["cbec.payment", "cbec.waybill"]


async def test_market_supervision_receives_no_payment_webhooks(
    hub_actors: Actors, receiver: Receiver
) -> None:
    await _register(
        hub_actors,
        receiver,
        scopes="market:read",
        kinds=["DECLARATION_ACCEPTED", "STANDARD_DEPRECATED"],
    )
    await hub_actors.file_all(import_set("XZ-WH-0003"))
    await asyncio.sleep(1.0)
    assert receiver.messages == [] and receiver.attempts == []


async def test_enterprises_cannot_register_and_bad_urls_are_refused(
    hub_actors: Actors, receiver: Receiver
) -> None:
    from tests.builders.parties import PLATFORM

    body = await hub_actors.query(
        REGISTER,
        as_=PLATFORM,
        variables={"input": {"url": receiver.url, "kinds": ["DECLARATION_ACCEPTED"]}},
    )
    assert [e["code"] for e in body["data"]["registerWebhook"]["errors"]] == ["NOT_ALLOWED"]
    for url, code in [
        ("http://169.254.169.254/latest/meta-data/", "FORBIDDEN_ADDRESS"),
        ("http://[fe80::1]/hook", "FORBIDDEN_ADDRESS"),
        ("http://metadata.google.internal/", "FORBIDDEN_ADDRESS"),
        ("http://[::ffff:169.254.169.254]/", "FORBIDDEN_ADDRESS"),
        ("ftp://example.org/", "INVALID_URL"),
        ("http://user:pw@127.0.0.1/", "INVALID_URL"),
        ("not a url", "INVALID_URL"),
    ]:
        body = await hub_actors.query(
            REGISTER,
            scopes="customs:read",
            variables={"input": {"url": url, "kinds": ["DECLARATION_ACCEPTED"]}},
        )
        assert [e["code"] for e in body["data"]["registerWebhook"]["errors"]] == [code], url


async def test_production_calls_only_allow_listed_public_https_hosts() -> None:
    production = Settings(env="production", webhook_allow=("hooks.example.org", "*.gov.test"))
    for url, code in [
        ("http://hooks.example.org/x", "INVALID_URL"),
        ("https://evil.example.com/x", "HOST_NOT_ALLOWED"),
        ("https://127.0.0.1/x", "HOST_NOT_ALLOWED"),
    ]:
        with pytest.raises(urls.UrlRefused) as refused:
            await urls.check(url, production)
        assert refused.value.code == code, url
    loopback = dataclasses.replace(production, webhook_allow=("127.0.0.1",))
    with pytest.raises(urls.UrlRefused) as refused:
        await urls.check("https://127.0.0.1/x", loopback)
    assert refused.value.code == "FORBIDDEN_ADDRESS"


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(attempts=n, base_ms=1000).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(attempts=40, base_ms=1000).total_seconds() == 3600
