"""`hub log verify`: offline from the files a bank holds, and --full over the database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from hub.db import unit_of_work
from hub.declarations.models import Declaration
from tests.declarations.conftest import PLATFORM, import_documents


async def _hub(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": database_url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub.cli", "log", "verify", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_bank_verifies_offline_and_the_operator_verifies_the_whole_log(
    http: httpx.AsyncClient,
    app: Starlette,
    declare: Any,
    token_for: Any,
    wait_for_size: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    ids = [
        (await declare("cbec.order", import_documents(f"XZC{n:04d}")["order"], as_=PLATFORM))["id"]
        for n in range(3)
    ]
    (tmp_path / "checkpoint").write_text(await wait_for_size(3))
    (tmp_path / "jwks.json").write_text((await http.get("/.well-known/jwks.json")).text)
    token = await token_for(PLATFORM)
    proof = (
        await http.get(
            "/log/proof/inclusion",
            params={"id": ids[1]},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    files = ["--jwks", str(tmp_path / "jwks.json"), "--checkpoint", str(tmp_path / "checkpoint")]

    ok = await _hub(database_url, *files, "--proof", str(tmp_path / "proof.json"), "--id", ids[1])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"declaration {ids[1]}" in ok.stdout

    wrong_id = await _hub(
        database_url, *files, "--proof", str(tmp_path / "proof.json"), "--id", ids[0]
    )
    assert wrong_id.returncode == 1
    proof["hashes"][0] = "00" * 32
    (tmp_path / "forged.json").write_text(json.dumps(proof))
    forged = await _hub(database_url, *files, "--proof", str(tmp_path / "forged.json"))
    assert forged.returncode == 1 and "FAILED" in forged.stdout

    full = await _hub(database_url, "--full")
    assert full.returncode == 0, full.stdout + full.stderr
    assert "log OK: 3 entries" in full.stdout

    # The operator rewrites a declaration's provenance: the log no longer covers it.
    async with unit_of_work(app.state.runtime.session_factory) as session:
        await session.execute(
            update(Declaration).where(Declaration.id == ids[2]).values(client_id="hub_intruder")
        )
    tampered = await _hub(database_url, "--full", "--json")
    assert tampered.returncode == 1
    report = json.loads(tampered.stdout.strip().splitlines()[-1])
    assert report["ok"] is False
    assert any(ids[2] in p and "provenance" in p for p in report["problems"])
