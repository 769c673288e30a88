"""Witnesses: a witness cosigns only a checkpoint that extends the last one it cosigned,
and refuses a rewritten history (mutated leaf, forked tree, rollback); the hub stores only
valid cosignatures of its registered witnesses and serves witnessed checkpoints.

The first part is the witness's own logic on trees built here (the operator is the
attacker and holds the log key); the second drives `hub log witness`'s round against the
running hub.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, select
from starlette.applications import Starlette

from hub.config import Settings
from hub.db import unit_of_work
from hub.log import merkle, service, verify, witness
from hub.log.models import LogCheckpoint, LogCosignature
from hub.log.note import Checkpoint, Signer, sign
from hub.log.policy import WitnessPolicy
from hub.log.witness import WitnessState
from hub.log.witness_cli import Outcome, witness_once
from tests.declarations.conftest import PLATFORM, import_documents
from tests.support import RegisteredClient

ORIGIN = "hub.test/log"

# --- the witness's review, on trees built here -------------------------------------------


class Tree:
    """A log of leaves with its stored nodes, signed by the operator's key."""

    def __init__(self, signer: Signer, leaves: list[bytes]):
        self.signer = signer
        self.leaves: list[bytes] = []
        self.nodes: dict[merkle.Node, bytes] = {}
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
        self.add(leaves)

    def add(self, entries: list[bytes]) -> None:
        for entry in entries:
            size = len(self.leaves)
            created, root = merkle.append(size, self.nodes, [merkle.leaf_hash(entry)])
            self.nodes.update(created)
            self.leaves.append(entry)
            self.roots[size + 1] = root

    def checkpoint(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return sign(Checkpoint(ORIGIN, size, self.roots[size]).text(), self.signer)

    def proof(self, old: int, new: int) -> list[str]:
        hashes = merkle.consistency_proof(old, new, lambda w: {n: self.nodes[n] for n in w})
        return [h.hex() for h in hashes]


def _entries(n: int, tag: str = "e") -> list[bytes]:
    return [f"{tag}{i}".encode() for i in range(n)]


def _cosigned(size: int) -> tuple[Signer, Tree, WitnessState]:
    """A log of `size` leaves and a witness that cosigned it."""
    log_key = Signer.generate(ORIGIN)
    tree = Tree(log_key, _entries(size))
    state = WitnessState(log_key.verifier().vkey)
    head = witness.open_checkpoint(state, tree.checkpoint())
    return log_key, tree, witness.review(state, head, None)


@pytest.mark.parametrize(("old", "new"), [(1, 2), (3, 7), (7, 8), (8, 9), (15, 17), (16, 33)])
def test_the_witness_accepts_a_consistent_extension(old: int, new: int) -> None:
    _, tree, state = _cosigned(old)
    tree.add(_entries(new - old, "f"))
    head = witness.open_checkpoint(state, tree.checkpoint())
    assert witness.needs_proof(state, head)
    kept = witness.review(state, head, tree.proof(old, new))
    assert (kept.size, kept.root) == (new, tree.roots[new])


def test_the_witness_refuses_a_rollback() -> None:
    _, tree, state = _cosigned(9)
    head = witness.open_checkpoint(state, tree.checkpoint(7))  # an older, genuine head
    with pytest.raises(verify.VerificationError, match="rollback"):
        witness.review(state, head, None)


def test_the_witness_refuses_a_fork_at_the_same_size() -> None:
    log_key, tree, state = _cosigned(8)
    forged = Tree(log_key, [*tree.leaves[:7], b"another last leaf"])
    head = witness.open_checkpoint(state, forged.checkpoint())
    with pytest.raises(verify.VerificationError, match="fork"):
        witness.review(state, head, None)


@pytest.mark.parametrize("mutated", [0, 5, 12])
def test_the_witness_refuses_history_with_a_mutated_leaf(mutated: int) -> None:
    log_key, tree, state = _cosigned(13)
    rewritten = Tree(
        log_key, [b"rewritten" if i == mutated else e for i, e in enumerate(tree.leaves)]
    )
    rewritten.add(_entries(6, "new"))
    head = witness.open_checkpoint(state, rewritten.checkpoint())
    # The operator's best proof is one over its own (rewritten) tree: it cannot lead from
    # the root the witness cosigned.
    with pytest.raises(verify.VerificationError, match="consistency"):
        witness.review(state, head, rewritten.proof(13, 19))


def test_the_witness_refuses_a_forked_tree_that_grew() -> None:
    log_key, tree, state = _cosigned(10)
    fork = Tree(log_key, [*tree.leaves[:6], *_entries(8, "fork")])
    genuine_proof = Tree(log_key, [*tree.leaves, *_entries(4, "g")]).proof(10, 14)
    head = witness.open_checkpoint(state, fork.checkpoint())
    for proof in (fork.proof(10, 14), genuine_proof, [], None):
        with pytest.raises(verify.VerificationError):
            witness.review(state, head, proof)


def test_the_witness_refuses_a_checkpoint_of_another_key() -> None:
    _, tree, state = _cosigned(4)
    impostor = Tree(Signer.generate(ORIGIN), tree.leaves)
    with pytest.raises(verify.VerificationError):
        witness.open_checkpoint(state, impostor.checkpoint())


def test_a_witness_state_survives_its_file() -> None:
    _, _, state = _cosigned(5)
    assert WitnessState.from_json(state.to_json()) == state
    with pytest.raises(ValueError):
        WitnessState.from_json('{"size": 1}')


@pytest.mark.parametrize(
    "text", ["", "2", "0 of a,b", "3 of a,b", "2 of a,a", "1 of a b", "two of a,b", "1 of a+b"]
)
def test_a_malformed_witness_policy_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        WitnessPolicy.parse(text)


def test_a_malformed_policy_stops_the_hub_at_start() -> None:
    from hub.config import SettingsError

    with pytest.raises(SettingsError, match="HUB_LOG_WITNESS_POLICY"):
        Settings.from_env({"HUB_LOG_WITNESS_POLICY": "3 of customs,tax"})
    assert Settings.from_env({"HUB_LOG_WITNESS_POLICY": " 2 of customs, tax "}).log_witness_policy


# --- against the running hub -------------------------------------------------------------

Declare = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The test hub, with the witness policy of the README's example."""
    return Settings(
        database_url=database_url,
        issuer="http://hub.test",
        env="test",
        log_witness_policy="2 of customs,tax,forex",
    )


@dataclasses.dataclass
class Department:
    client: RegisteredClient
    signer: Signer
    state: WitnessState | None = None

    async def round(self, http: httpx.AsyncClient) -> Outcome:
        outcome, kept = await witness_once(
            http=http,
            client_id=self.client.client_id,
            secret=self.client.client_secret,
            signer=self.signer,
            state=self.state,
        )
        self.state = kept
        return outcome


@pytest.fixture
def department(
    app: Starlette, register_client: Callable[..., Awaitable[RegisteredClient]]
) -> Callable[[str], Awaitable[Department]]:
    """A department registered as a witness: its client (scope `witness`) and its key."""

    async def make(name: str, *, scopes: str = "witness", register: bool = True) -> Department:
        client = await register_client(name=f"{name} witness", scopes=scopes)
        signer = Signer.generate(name)
        if register:
            async with unit_of_work(app.state.runtime.session_factory) as session:
                await service.register_witness(
                    session=session,
                    client_id=client.client_id,
                    vkey=witness.witness_vkey(signer),
                    now=datetime.now(UTC),
                )
        return Department(client, signer)

    return make


async def _declared(
    declare: Declare, wait_for_size: Any, count: int, prefix: str, *, size: int | None = None
) -> str:
    """Declares `count` orders and waits for the log to reach `size` (default `count`)."""
    for n in range(count):
        await declare("cbec.order", import_documents(f"{prefix}{n:04d}")["order"], as_=PLATFORM)
    return str(await wait_for_size(size or count))


async def test_departments_cosign_and_a_bank_gets_a_witnessed_checkpoint(
    http: httpx.AsyncClient, declare: Declare, wait_for_size: Any, department: Any
) -> None:
    customs, tax = await department("customs"), await department("tax")
    await _declared(declare, wait_for_size, 3, "XWA")
    assert _code(await http.get("/log/checkpoint/witnessed")) == "NOT_WITNESSED"
    first = await customs.round(http)
    assert first.cosigned and first.size == 3, first.detail
    assert (await http.get("/log/checkpoint/witnessed")).status_code == 404  # 1 of 2
    await _declared(declare, wait_for_size, 6, "XWB", size=9)  # the log grows
    again = await customs.round(http)  # now with a consistency proof from 3
    assert again.cosigned and again.size >= 9, again.detail
    assert (await tax.round(http)).cosigned

    witnessed = await http.get("/log/checkpoint/witnessed")
    assert witnessed.status_code == 200, witnessed.text
    keys = verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    head = verify.open_head(witnessed.text, keys)
    listed = (await http.get("/log/witnesses")).json()
    assert listed["policy"] == "2 of customs,tax,forex"
    witnesses, policy = verify.witness_keys(listed)
    assert policy is not None
    assert sorted(verify.check_witnessed(head, witnesses, policy)) == ["customs", "tax"]
    # The plain checkpoint carries the cosignatures too; one witness is not the quorum.
    plain = verify.open_head((await http.get("/log/checkpoint")).text, keys)
    strict = WitnessPolicy.parse("3 of customs,tax,forex")
    with pytest.raises(verify.VerificationError, match="the policy is 3 of"):
        verify.check_witnessed(plain, witnesses, strict)


async def test_a_witness_refuses_a_hub_that_rolls_back_or_forks(
    http: httpx.AsyncClient, app: Starlette, declare: Declare, wait_for_size: Any, department: Any
) -> None:
    customs = await department("customs")
    await _declared(declare, wait_for_size, 4, "XWC")
    assert (await customs.round(http)).cosigned
    cosigned = customs.state
    assert cosigned is not None
    runtime = app.state.runtime
    await runtime.log.sequencer.stop()  # the operator takes the log over
    signer = runtime.log.signer
    async with unit_of_work(runtime.session_factory) as session:
        # A fork: the same size signed over another root.
        await session.execute(delete(LogCheckpoint).where(LogCheckpoint.size >= cosigned.size))
        forged = sign(Checkpoint(runtime.log.origin, cosigned.size, b"\x07" * 32).text(), signer)
        await session.execute(
            insert(LogCheckpoint),
            [{"size": cosigned.size, "root": b"\x07" * 32, "note": forged,
              "created_at": datetime.now(UTC)}],
        )  # fmt: skip
    refused = await customs.round(http)
    assert not refused.cosigned and "fork" in refused.detail
    assert customs.state == cosigned  # the witness's memory did not move
    async with unit_of_work(runtime.session_factory) as session:
        # A rollback: only an older (genuine) size is shown.
        await session.execute(delete(LogCheckpoint).where(LogCheckpoint.size >= 2))
        root = await _root(session, 2)
        older = sign(Checkpoint(runtime.log.origin, 2, root).text(), signer)
        await session.execute(
            insert(LogCheckpoint),
            [{"size": 2, "root": root, "note": older, "created_at": datetime.now(UTC)}],
        )
    refused = await customs.round(http)
    assert not refused.cosigned and "rollback" in refused.detail


async def _root(session: Any, size: int) -> bytes:
    from hub.log import store

    return await store.root_at(db=session, size=size)


async def test_the_hub_refuses_bad_cosignatures(
    http: httpx.AsyncClient, app: Starlette, declare: Declare, wait_for_size: Any, department: Any
) -> None:
    customs, tax = await department("customs"), await department("tax")
    await _declared(declare, wait_for_size, 2, "XWD")
    text = (await http.get("/log/checkpoint")).text
    keys = verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    head = verify.open_head(text, keys)
    token = await _token(http, customs.client)
    now = int(time.time())
    good = witness.cosign(head, customs.signer, timestamp=now)
    other_text = Checkpoint(head.checkpoint.origin, head.size, b"\x01" * 32).text()
    flipped = good[:-6] + ("A" if good[-6] != "A" else "B") + good[-5:]
    cases = {
        "another witness's key": (head.size, witness.cosign(head, tax.signer, timestamp=now)),
        "a flipped signature": (head.size, flipped),
        "another checkpoint's text": (head.size, customs.signer.cosign_line(other_text, now)),
        "the log's own signature line": (head.size, head.note.signatures[0].line),
        "a date far ahead": (head.size, witness.cosign(head, customs.signer, timestamp=now + 3600)),
        "two lines": (head.size, good + good),
        "no newline": (head.size, good.rstrip("\n")),
        "garbage": (head.size, "not a signature line\n"),
    }
    for what, (size, line) in cases.items():
        answer = await _post(http, token, {"size": size, "cosignature": line})
        assert (answer.status_code, _code(answer)) == (400, "BAD_COSIGNATURE"), what
    assert _code(await _post(http, token, {"size": 999, "cosignature": good})) == "BAD_SIZE"
    bodies: list[Any] = [
        {},
        {"size": "2", "cosignature": good},
        {"size": True, "cosignature": good},
        {"size": -1, "cosignature": good},
        {"size": 2, "cosignature": 7},
        [1],
    ]
    for body in bodies:
        answer = await _post(http, token, body)
        assert (answer.status_code, _code(answer)) == (400, "BAD_REQUEST"), body
    raw = await http.post(
        "/log/cosign", content=b"\xff{", headers={"Authorization": f"Bearer {token}"}
    )
    assert raw.status_code == 400
    async with app.state.runtime.session_factory() as session:
        assert (await session.scalars(select(LogCosignature))).all() == []
    accepted = await _post(http, token, {"size": head.size, "cosignature": good})
    assert accepted.status_code == 200 and accepted.json() == {
        "witness": "customs",
        "size": head.size,
    }


async def test_only_registered_witness_clients_may_cosign(
    http: httpx.AsyncClient, declare: Declare, wait_for_size: Any, department: Any
) -> None:
    await _declared(declare, wait_for_size, 1, "XWE")
    unregistered = await department("forex", register=False)
    outcome = await unregistered.round(http)
    assert not outcome.cosigned and "NOT_A_WITNESS" in outcome.detail
    reader = await department("market", scopes="market:read")  # registered, scope missing
    token = await _token(http, reader.client, scope="market:read")
    head_text = (await http.get("/log/checkpoint")).text
    head = verify.open_head(
        head_text, verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    )
    line = witness.cosign(head, reader.signer, timestamp=int(time.time()))
    answer = await _post(http, token, {"size": head.size, "cosignature": line})
    assert answer.status_code == 403
    assert (await http.post("/log/cosign", json={})).status_code == 401


async def _token(http: httpx.AsyncClient, client: RegisteredClient, scope: str = "witness") -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _post(http: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await http.post("/log/cosign", json=body, headers={"Authorization": f"Bearer {token}"})


def _code(response: httpx.Response) -> str:
    """The code of a refusal (the project's one refusal shape)."""
    return str(response.json()["errors"][0]["extensions"]["code"])
