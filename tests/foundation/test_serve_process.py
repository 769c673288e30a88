"""The real `hub serve` process: a client gets a token with authlib and asks `me`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_serving(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"hub serve exited: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("hub serve did not start within 30 s")


@pytest.fixture
def served_hub(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        "HUB_ISSUER": f"http://127.0.0.1:{port}",
    }
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "clients",
            "create",
            "--name",
            "Customs",
            "--scopes",
            "customs:read pii:read",
            "--json",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    credentials = json.loads(created.stdout)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process)
        yield base, credentials
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_authlib_client_credentials_then_me_over_real_http(
    served_hub: tuple[str, dict[str, str]],
) -> None:
    base, credentials = served_hub
    async with AsyncOAuth2Client(
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        token_endpoint_auth_method="client_secret_basic",
    ) as client:
        metadata = httpx.get(f"{base}/.well-known/oauth-authorization-server").json()
        token = await client.fetch_token(
            metadata["token_endpoint"], grant_type="client_credentials", scope="customs:read"
        )
        assert token["scope"] == "customs:read"
        response = await client.post(
            f"{base}/graphql", json={"query": "{ me { clientId name scopes } }"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"] == {
        "clientId": credentials["client_id"],
        "name": "Customs",
        "scopes": ["customs:read"],
    }


def test_graphiql_is_served_to_browsers(served_hub: tuple[str, dict[str, str]]) -> None:
    base, _ = served_hub
    response = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
