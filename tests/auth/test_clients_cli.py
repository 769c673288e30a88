"""`hub clients disable` revokes the client's live tokens; `enable` lets it get new ones only."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from hub.app import create_app
from hub.config import Settings
from tests.support import TEST_ISSUER

ME = {"query": "{ me { clientId } }"}


def hub(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_disable_revokes_live_tokens_and_enable_does_not_bring_them_back(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert hub("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    created = hub(
        "clients", "create", "--name", "Tax", "--scopes", "tax:read", "--json",
        database_url=url, cwd=tmp_path,
    )  # fmt: skip
    client = json.loads(created.stdout)
    app = create_app(Settings(database_url=url, issuer=TEST_ISSUER, env="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:

            async def new_token() -> httpx.Response:
                return await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client["client_id"], client["client_secret"]),
                )

            async def me(token: str) -> int:
                headers = {"Authorization": f"Bearer {token}"}
                return (await http.post("/graphql", json=ME, headers=headers)).status_code

            old = (await new_token()).json()["access_token"]
            assert await me(old) == 200

            disabled = await asyncio.to_thread(
                hub, "clients", "disable", client["client_id"], database_url=url, cwd=tmp_path
            )
            assert disabled.returncode == 0, disabled.stderr
            assert "revoked" in disabled.stdout
            while_disabled = (await me(old), (await new_token()).status_code)

            await asyncio.sleep(1.05)  # past the second of the disable (`iat` is whole seconds)
            enabled = await asyncio.to_thread(
                hub, "clients", "enable", client["client_id"], database_url=url, cwd=tmp_path
            )
            assert enabled.returncode == 0, enabled.stderr
            fresh = (await new_token()).json()["access_token"]
            after = (await me(old), await me(fresh))

    assert while_disabled == (401, 401)
    assert after == (401, 200)
    listed = json.loads(hub("clients", "list", "--json", database_url=url, cwd=tmp_path).stdout)
    assert listed[0]["disabled"] is False


def test_enable_of_an_unknown_client_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert hub("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    result = hub("clients", "enable", "hub_nobody", database_url=url, cwd=tmp_path)
    assert result.returncode == 2
    assert "no client 'hub_nobody'" in result.stderr
