"""GET /log/checkpoint and the proofs: verified offline with hub.log.verify, as a bank does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.declarations.models import Declaration
from hub.log import sequencer, verify
from tests.declarations.conftest import PLATFORM, SELLER, import_documents

Declare = Callable[..., Awaitable[dict[str, Any]]]
OTHER_PLATFORM = SELLER  # another enterprise


async def _declare_orders(declare: Declare, count: int, prefix: str = "XZL") -> list[dict]:
    return [
        await declare("cbec.order", import_documents(f"{prefix}{n:04d}")["order"], as_=PLATFORM)
        for n in range(count)
    ]


async def _payload(app: Starlette, declaration_id: str) -> bytes:
    async with app.state.runtime.session_factory() as session:
        text = await session.scalar(
            select(Declaration.payload).where(Declaration.id == declaration_id)
        )
    return text.encode("utf-8")


async def _keys(http: httpx.AsyncClient) -> list:
    return verify.log_keys((await http.get("/.well-known/jwks.json")).json())


async def test_a_declaration_is_verified_offline_from_jwks_checkpoint_and_proof(
    http: httpx.AsyncClient, app: Starlette, declare: Declare, token_for: Any, wait_for_size: Any
) -> None:
    declarations = await _declare_orders(declare, 5)
    text = await wait_for_size(5)
    head = verify.open_head(text, await _keys(http))
    assert head.size == 5
    token = await token_for(PLATFORM)
    for d in declarations:
        response = await http.get(
            "/log/proof/inclusion",
            params={"id": d["id"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        proof = response.json()
        assert set(proof) == {"leafIndex", "treeSize", "leafHash", "entry", "hashes"}
        assert proof["leafIndex"] == d["chainIndex"] - 1  # the log keeps chain order
        entry = verify.check_inclusion(
            proof, head, declaration_id=d["id"], payload=await _payload(app, d["id"])
        )
        assert (entry.declarant, entry.content_hash) == (PLATFORM, d["contentHash"])
        # Someone else's payload, or another declaration's id, does not pass.
        with pytest.raises(verify.VerificationError):
            verify.check_inclusion(proof, head, payload=b'{"forged":true}')
        with pytest.raises(verify.VerificationError):
            verify.check_inclusion(proof, head, declaration_id="0" * 24)


async def test_consistency_between_two_published_checkpoints_verifies(
    http: httpx.AsyncClient, declare: Declare, wait_for_size: Any
) -> None:
    keys = await _keys(http)
    await _declare_orders(declare, 2, "XZA")
    old = verify.open_head(await wait_for_size(2), keys)
    await _declare_orders(declare, 3, "XZB")
    new = verify.open_head(await wait_for_size(old.size + 3), keys)
    response = await http.get("/log/proof/consistency", params={"from": old.size, "to": new.size})
    assert response.status_code == 200, response.text
    verify.check_consistency(old, new, response.json()["hashes"])
    # A rollback (the new head presented as the old one) is refused.
    with pytest.raises(verify.VerificationError):
        verify.check_consistency(new, old, response.json()["hashes"])


async def test_only_readers_of_the_declaration_get_its_inclusion_proof(
    http: httpx.AsyncClient, declare: Declare, token_for: Any, get_token: Any, wait_for_size: Any
) -> None:
    (d,) = await _declare_orders(declare, 1)
    await wait_for_size(1)
    url = "/log/proof/inclusion"
    anonymous = await http.get(url, params={"id": d["id"]})
    assert anonymous.status_code == 401
    other = await token_for(OTHER_PLATFORM)
    refused = await http.get(
        url, params={"id": d["id"]}, headers={"Authorization": f"Bearer {other}"}
    )
    # Not someone else's declaration: indistinguishable from one that does not exist.
    absent = await http.get(
        url, params={"id": "f" * 24}, headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == absent.status_code == 404
    assert refused.json() == absent.json()
    assert refused.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for scopes in ("customs:read", "audit:read"):
        token = await get_token(scopes=scopes)
        ok = await http.get(
            url, params={"id": d["id"]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
    bank = await get_token(scopes="finance:read")
    assert (
        await http.get(url, params={"id": d["id"]}, headers={"Authorization": f"Bearer {bank}"})
    ).status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/log/proof/inclusion", {}, "BAD_REQUEST"),
        ("/log/proof/inclusion", {"id": "x" * 33}, "BAD_REQUEST"),
        ("/log/proof/inclusion", {"id": "ID", "size": "abc"}, "BAD_REQUEST"),
        ("/log/proof/inclusion", {"id": "ID", "size": "-1"}, "BAD_REQUEST"),
        ("/log/proof/inclusion", {"id": "ID", "size": "99"}, "BAD_SIZE"),
        ("/log/proof/inclusion", {"id": "ID", "size": "0"}, "BAD_SIZE"),
        ("/log/proof/inclusion", {"id": "ID", "size": "9" * 30}, "BAD_REQUEST"),
        ("/log/proof/consistency", {"from": "1"}, "BAD_REQUEST"),
        ("/log/proof/consistency", {"from": "2", "to": "1"}, "BAD_SIZE"),
        ("/log/proof/consistency", {"from": "0", "to": "99"}, "BAD_SIZE"),
        ("/log/proof/consistency", {"from": "1e3", "to": "2"}, "BAD_REQUEST"),
    ],
)
async def test_bad_parameters_get_coded_4xx_errors(
    http: httpx.AsyncClient,
    declare: Declare,
    token_for: Any,
    wait_for_size: Any,
    path: str,
    params: dict[str, str],
    code: str,
) -> None:
    (d,) = await _declare_orders(declare, 1)
    await wait_for_size(1)
    params = {k: (d["id"] if v == "ID" else v) for k, v in params.items()}
    token = await token_for(PLATFORM)
    response = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code


async def test_a_queued_declaration_is_pending_until_the_sequencer_integrates_it(
    http: httpx.AsyncClient, app: Starlette, declare: Declare, token_for: Any
) -> None:
    log = app.state.runtime.log
    await log.sequencer.stop()
    (d,) = await _declare_orders(declare, 1)
    token = await token_for(PLATFORM)
    headers = {"Authorization": f"Bearer {token}"}
    pending = await http.get("/log/proof/inclusion", params={"id": d["id"]}, headers=headers)
    assert pending.status_code in (404, 409)
    code = pending.json()["errors"][0]["extensions"]["code"]
    assert code in ("PENDING", "NO_CHECKPOINT")
    async with unit_of_work(app.state.runtime.session_factory) as session:
        assert (
            await sequencer.integrate_all(session=session, signer=log.signer, origin=log.origin)
            == 1
        )
    done = await http.get("/log/proof/inclusion", params={"id": d["id"]}, headers=headers)
    assert done.status_code == 200
    head = verify.open_head((await http.get("/log/checkpoint")).text, await _keys(http))
    verify.check_inclusion(done.json(), head, declaration_id=d["id"])


async def test_healthz_reports_the_leading_sequencer_and_its_merge_delay(
    http: httpx.AsyncClient, declare: Declare
) -> None:
    await _declare_orders(declare, 1, prefix="HLZ")
    body = (await http.get("/healthz")).json()
    # One sequencer per database: the only hub process leads.
    assert body["log"]["sequencer"] == "leading", body
