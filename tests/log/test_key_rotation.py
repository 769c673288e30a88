"""Rotating the log's signing key: old checkpoints and proofs stay verifiable with the
published keys, new checkpoints name the new key, and a witness that pinned the old key
follows the rotation through the note the old key signed, and only through it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.log import keys, service, verify, witness
from hub.log.note import Signer, parse
from hub.log.witness import WitnessState
from hub.log.witness_cli import witness_once
from tests.declarations.conftest import PLATFORM, import_documents
from tests.support import TEST_ISSUER, RegisteredClient

ORIGIN = "hub.test/log"

# --- pure ------------------------------------------------------------------------------


def test_a_rotation_note_hands_the_log_to_the_new_key_only_when_the_old_key_signed() -> None:
    old, new = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    note = verify.sign_rotation(old, new)
    assert verify.check_rotation(note, old.verifier()) == new.verifier()
    # Signed by someone else, by the new key alone, or for another log: refused.
    stranger = Signer.generate(ORIGIN)
    with pytest.raises(verify.VerificationError):
        verify.check_rotation(verify.sign_rotation(stranger, new), old.verifier())
    text = verify.rotation_text(old.verifier(), new.verifier())
    with pytest.raises(verify.VerificationError):
        verify.check_rotation(text + "\n" + new.sign_line(text), old.verifier())
    elsewhere = Signer.generate("other.test/log")
    with pytest.raises(verify.VerificationError):
        verify.check_rotation(verify.sign_rotation(old, elsewhere), old.verifier())
    # The new key must have signed too (it proves the log holds its private half).
    with pytest.raises(verify.VerificationError):
        verify.check_rotation(text + "\n" + old.sign_line(text), old.verifier())


def test_rotations_are_followed_in_order_and_a_forged_branch_is_ignored() -> None:
    a, b, c = (Signer.generate(ORIGIN) for _ in range(3))
    forged = verify.sign_rotation(Signer.generate(ORIGIN), Signer.generate(ORIGIN))
    notes = [verify.sign_rotation(b, c), forged, verify.sign_rotation(a, b)]
    chain = verify.follow_rotations(a.verifier(), notes)
    assert chain == [a.verifier(), b.verifier(), c.verifier()]
    assert verify.follow_rotations(c.verifier(), notes) == [c.verifier()]


# --- against the running hub -------------------------------------------------------------

Declare = Callable[..., Awaitable[dict[str, Any]]]


async def _size(http: httpx.AsyncClient) -> int:
    return int((await http.get("/log/checkpoint")).text.split("\n")[1])


async def _checkpoint_by(http: httpx.AsyncClient, key_id: int, size: int) -> str:
    """Polls until the log signs a checkpoint of at least `size` with the key `key_id`."""
    for _ in range(200):
        text = (await http.get("/log/checkpoint")).text
        signed = [s.key_id for s in parse(text).signatures]
        if int(text.split("\n")[1]) >= size and key_id in signed:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError("the log did not sign with the new key")


async def test_rotation_keeps_old_checkpoints_and_proofs_verifiable_and_a_witness_follows(
    http: httpx.AsyncClient,
    app: Starlette,
    declare: Declare,
    token_for: Any,
    wait_for_size: Any,
    register_client: Callable[..., Awaitable[RegisteredClient]],
) -> None:
    runtime = app.state.runtime
    log = runtime.log
    log.RELOAD_SECONDS = 0.0  # as if the JWKS cache had expired
    assert log.sequencer is not None
    log.sequencer.key_poll = 0.0
    client = await register_client(name="customs witness", scopes="witness")
    witness_key = Signer.generate("customs")
    async with unit_of_work(runtime.session_factory) as session:
        await service.register_witness(
            session=session,
            client_id=client.client_id,
            vkey=witness.witness_vkey(witness_key),
            now=datetime.now(UTC),
        )

    async def cosign(state: WitnessState | None) -> tuple[Any, WitnessState | None]:
        return await witness_once(
            http=http,
            client_id=client.client_id,
            secret=client.client_secret,
            signer=witness_key,
            state=state,
        )

    first = await declare("cbec.order", import_documents("XKR0001")["order"], as_=PLATFORM)
    old_text = await wait_for_size(1)
    outcome, state = await cosign(None)
    assert outcome.cosigned, outcome.detail
    assert state is not None
    old_key = log.key()

    async with unit_of_work(runtime.session_factory) as session:
        new_signer = await keys.rotate(session=session, origin=log.origin, now=datetime.now(UTC))
    new_key = new_signer.verifier()
    assert new_key != old_key
    await declare("cbec.order", import_documents("XKR0002")["order"], as_=PLATFORM)
    new_text = await _checkpoint_by(http, new_key.key_id, 2)
    # The checkpoint names its key: the signature's key id is the new key's hash.
    assert [s.key_id for s in parse(new_text).signatures] == [new_key.key_id]
    assert [s.key_id for s in parse(old_text).signatures] == [old_key.key_id]

    # The JWKS publishes both; each checkpoint verifies with it, and only with its own key.
    published = verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    assert {old_key, new_key} <= set(published)
    old_head = verify.open_head(old_text, published)
    new_head = verify.open_head(new_text, published)
    assert (old_head.signed_by, new_head.signed_by) == (old_key, new_key)
    with pytest.raises(verify.VerificationError):
        verify.open_head(new_text, [old_key])
    with pytest.raises(verify.VerificationError):
        verify.open_head(old_text, [new_key])
    consistency = await http.get(
        "/log/proof/consistency", params={"from": old_head.size, "to": new_head.size}
    )
    verify.check_consistency(old_head, new_head, consistency.json()["hashes"])
    auth = {"Authorization": f"Bearer {await token_for(PLATFORM)}"}
    for head in (old_head, new_head):
        proof = await http.get(
            "/log/proof/inclusion", params={"id": first["id"], "size": head.size}, headers=auth
        )
        assert proof.status_code == 200, proof.text
        verify.check_inclusion(proof.json(), head, declaration_id=first["id"])

    # GET /log/keys: both keys, the new one with the rotation note the old one signed.
    listed = (await http.get("/log/keys")).json()["keys"]
    assert [k["vkey"] for k in listed] == [old_key.vkey, new_key.vkey]
    assert listed[0]["retiredAt"] and listed[0]["rotation"] is None
    assert listed[1]["retiredAt"] is None
    assert verify.check_rotation(listed[1]["rotation"], old_key) == new_key

    # The witness pinned the old key: it follows the rotation and still checks the tree.
    outcome, moved = await cosign(state)
    assert outcome.cosigned, outcome.detail
    assert moved is not None and moved.log_key == new_key.vkey
    assert moved.retired_keys == (old_key.vkey,) and moved.size == new_head.size
    assert WitnessState.from_json(moved.to_json()) == moved


async def test_a_witness_does_not_follow_a_key_its_pinned_key_never_endorsed(
    http: httpx.AsyncClient,
    app: Starlette,
    declare: Declare,
    wait_for_size: Any,
    register_client: Callable[..., Awaitable[RegisteredClient]],
) -> None:
    runtime = app.state.runtime
    client = await register_client(name="tax witness", scopes="witness")
    witness_key = Signer.generate("tax")
    async with unit_of_work(runtime.session_factory) as session:
        await service.register_witness(
            session=session,
            client_id=client.client_id,
            vkey=witness.witness_vkey(witness_key),
            now=datetime.now(UTC),
        )
    await declare("cbec.order", import_documents("XKS0001")["order"], as_=PLATFORM)
    await wait_for_size(1)
    # The witness pinned a key the hub never had (or one an attacker swapped in its
    # state): the hub's rotation notes do not lead from it to the key that signs now.
    pinned = WitnessState(Signer.generate(runtime.log.origin).verifier().vkey)
    outcome, kept = await witness_once(
        http=http,
        client_id=client.client_id,
        secret=client.client_secret,
        signer=witness_key,
        state=pinned,
    )
    assert not outcome.cosigned and outcome.detail.startswith("REFUSED")
    assert kept == pinned


async def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_ISSUER": TEST_ISSUER}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub.cli", "log", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_hub_log_keys_rotate_takes_effect_in_the_running_hub_and_the_log_verifies(
    http: httpx.AsyncClient,
    app: Starlette,
    declare: Declare,
    wait_for_size: Any,
    database_url: str,
) -> None:
    log = app.state.runtime.log
    assert log.sequencer is not None
    log.sequencer.key_poll = 0.0
    await declare("cbec.order", import_documents("XKT0001")["order"], as_=PLATFORM)
    await wait_for_size(1)
    old_key = log.key()
    rotated = await _cli(database_url, "keys", "rotate", "--json")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert new["retiredAt"] is None and new["rotation"]
    new_key = verify.check_rotation(new["rotation"], old_key)
    await declare("cbec.order", import_documents("XKT0002")["order"], as_=PLATFORM)
    await _checkpoint_by(http, new_key.key_id, 2)
    listed = await _cli(database_url, "keys", "list", "--json")
    assert [k["retiredAt"] is None for k in json.loads(listed.stdout)] == [False, True]
    # The operator's full check reads checkpoints of both keys.
    full = await _cli(database_url, "verify", "--full", "--json")
    assert full.returncode == 0, full.stdout + full.stderr
    assert json.loads(full.stdout)["ok"] is True
