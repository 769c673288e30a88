"""graphql-http's GraphQL-over-HTTP audits, run against a real `hub serve`: all of them ok."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent / "graphql_http"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def graphql_http_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the GraphQL-over-HTTP audit")
    if not (HERE / "node_modules" / "graphql-http").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE,
            check=True,
            timeout=300,
        )


@pytest.fixture
def served_hub(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A `hub serve` process on a temporary SQLite database, and a client's access token."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        "HUB_ISSUER": base,
        "HUB_ENV": "development",  # the audits introspect (`__type`)
    }
    created = subprocess.run(
        [sys.executable, "-m", "hub.cli", "clients", "create", "--name", "Auditor",
         "--scopes", "customs:read", "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    credentials = json.loads(created.stdout)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"hub serve exited: {stderr}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("hub serve did not start within 30 s")
            time.sleep(0.2)
        issued = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
        assert issued.status_code == 200, issued.text
        yield f"{base}/graphql", issued.json()["access_token"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_every_graphql_over_http_audit_is_ok(
    graphql_http_installed: None, served_hub: tuple[str, str]
) -> None:
    url, token = served_hub
    result = subprocess.run(
        ["node", str(HERE / "audit.mjs"), url, token],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(result.stdout)  # the audit report, shown with `pytest -s` or on failure
    assert result.stderr == "", result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["total"] >= 60, summary  # the suite ran, not an empty list
    assert summary == {"total": summary["total"], "ok": summary["total"], "warn": 0, "error": 0}
    assert result.returncode == 0
