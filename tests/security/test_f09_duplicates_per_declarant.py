"""Finding 9: duplicates leaked across enterprises.

The original code (ded634c) looked duplicates up by content alone: a byte-identical copy
of another enterprise's payload came back `duplicate: true` with the other's declaration
id, declarant and client id (an exact-content oracle, and unlogged). Duplicates and
idempotency keys are now per declarant: another enterprise's identical content is just a
payload with that record's key (RECORD_EXISTS while the record stands, a fresh declaration
of its own where one is allowed), and nothing in the answer says who declared it.
"""

from __future__ import annotations

import json
from typing import Any

from tests.builders.parties import (
    DECLARE,
    PLATFORM,
    SELLER,
    STRANGER,
    Actors,
    codes,
    hub_actors,
    import_set,
    order_as_customs,
)

__all__ = ["hub_actors"]


async def _original(actors: Actors, order_no: str) -> tuple[dict[str, Any], dict[str, Any]]:
    order = import_set(order_no)["order"]
    first = await actors.declare("cbec.order", order, as_=PLATFORM, key="erp-1")
    assert codes(first) == []
    return order, first["declaration"]


def _leaks(result: dict[str, Any], original: dict[str, Any], platform_client: str) -> list[str]:
    """Whatever of the original declaration shows up in an answer to someone else."""
    text = json.dumps(result)
    return [v for v in (original["id"], original["clientId"], platform_client) if v in text]


async def test_a_copy_of_another_enterprises_payload_is_refused_without_naming_it(
    hub_actors: Actors,
) -> None:
    order, original = await _original(hub_actors, "XZ-F09-0001")

    # The seller may declare this order too; the record exists, so it is refused.
    copy = await hub_actors.declare("cbec.order", order, as_=SELLER)

    assert codes(copy) == ["RECORD_EXISTS"]
    assert copy["duplicate"] is False and copy["declaration"] is None
    assert _leaks(copy, original, hub_actors.client_ids[PLATFORM]) == []
    assert PLATFORM not in json.dumps(copy["errors"])


async def test_a_stranger_learns_nothing_from_an_exact_copy(hub_actors: Actors) -> None:
    order, original = await _original(hub_actors, "XZ-F09-0002")

    copy = await hub_actors.declare("cbec.order", order, as_=STRANGER)
    unknown = await hub_actors.declare(
        "cbec.order", order | {"orderNo": "XZ-F09-NEVER"}, as_=STRANGER
    )

    # The same answer as for content nobody declared: no exact-content oracle.
    assert codes(copy) == codes(unknown) == ["NOT_A_PARTY"]
    assert copy["duplicate"] is False and copy["declaration"] is None
    assert _leaks(copy, original, hub_actors.client_ids[PLATFORM]) == []


async def test_after_a_cancellation_the_same_bytes_are_a_fresh_declaration_of_the_sender(
    hub_actors: Actors,
) -> None:
    order, original = await _original(hub_actors, "XZ-F09-0003")
    cancelled = await hub_actors.declare("cbec.order", order | {"appType": "3"}, as_=PLATFORM)
    assert codes(cancelled) == []

    again = await hub_actors.declare("cbec.order", order, as_=SELLER)

    assert codes(again) == [] and again["duplicate"] is False
    assert again["declaration"]["declarant"] == SELLER
    assert again["declaration"]["id"] != original["id"]
    stored = await order_as_customs(hub_actors, PLATFORM, "XZ-F09-0003")
    assert stored is not None and stored["status"] == "ACTIVE"


async def test_the_declarants_own_copy_is_still_a_duplicate(hub_actors: Actors) -> None:
    order, original = await _original(hub_actors, "XZ-F09-0004")

    again = await hub_actors.declare("cbec.order", order, as_=PLATFORM)

    assert again["duplicate"] is True
    assert again["declaration"]["id"] == original["id"]


async def test_idempotency_keys_are_per_declarant(hub_actors: Actors) -> None:
    _, original = await _original(hub_actors, "XZ-F09-0005")
    other = import_set("XZ-F09-0006")["order"]

    # Another enterprise using the same key declares its own record, and is not told
    # that the key is taken (nor by which declaration).
    theirs = await hub_actors.declare("cbec.order", other, as_=SELLER, key="erp-1")
    assert codes(theirs) == [] and theirs["duplicate"] is False
    assert theirs["declaration"]["id"] != original["id"]

    # A second client of the platform shares the platform's keys: a retry from it finds
    # the original instead of storing the record twice.
    client = await hub_actors.register(name="platform ERP 2", scopes="declare", enterprise=PLATFORM)
    token = (
        await hub_actors.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
        )
    ).json()["access_token"]
    retry = await hub_actors.post(
        DECLARE,
        token=token,
        variables={
            "input": {
                "standard": "cbec.order",
                "payload": import_set("XZ-F09-0007")["order"],
                "idempotencyKey": "erp-1",
            }
        },
    )
    result = retry.json()["data"]["declare"]
    assert codes(result) == ["IDEMPOTENCY_KEY_REUSED"]
    assert result["declaration"] is None
