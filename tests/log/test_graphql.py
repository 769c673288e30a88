"""The log over GraphQL: the same proofs and checkpoint, the same read rule, a promise."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from hub.log import verify
from tests.declarations.conftest import PLATFORM, SELLER, import_documents

QUERY = """
query($id: ID!) {
  logCheckpoint
  inclusionProof(id: $id) { leafIndex treeSize leafHash entry hashes }
  consistencyProof(from: 1, to: 2) { hashes }
  declaration(id: $id) { inclusionPromise }
}"""


async def test_proofs_and_promise_over_graphql_verify_offline(
    http: httpx.AsyncClient, gql: Any, declare: Any, token_for: Any, wait_for_size: Any
) -> None:
    ids = [
        (await declare("cbec.order", import_documents(f"XZG{n}")["order"], as_=PLATFORM))["id"]
        for n in range(2)
    ]
    await wait_for_size(2)
    keys = verify.log_keys((await http.get("/.well-known/jwks.json")).json())
    body = await gql(QUERY, token=await token_for(PLATFORM), variables={"id": ids[1]})
    assert "errors" not in body, body
    data = body["data"]
    head = verify.open_head(data["logCheckpoint"], keys)
    entry = verify.check_inclusion(data["inclusionProof"], head, declaration_id=ids[1])
    assert entry.declarant == PLATFORM
    deadline = verify.check_promise(
        data["declaration"]["inclusionPromise"],
        keys,
        entry=base64.b64decode(data["inclusionProof"]["entry"]),
    )
    assert deadline.year >= 2026
    assert len(data["consistencyProof"]["hashes"]) == 1


async def test_another_enterprise_gets_not_found_and_bad_sizes_are_user_errors(
    gql: Any, declare: Any, token_for: Any, wait_for_size: Any
) -> None:
    (d,) = [await declare("cbec.order", import_documents("XZG9")["order"], as_=PLATFORM)]
    await wait_for_size(1)
    other = await token_for(SELLER)
    body = await gql(
        "query($id: ID!) { inclusionProof(id: $id) { leafIndex } }",
        token=other,
        variables={"id": d["id"]},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await gql(
        "{ consistencyProof(from: 3, to: 1) { hashes } }", token=await token_for(PLATFORM)
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "logCode": "BAD_SIZE"}
