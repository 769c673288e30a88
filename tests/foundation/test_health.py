"""GET /healthz reports whether the database answers."""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.app import create_app
from hub.config import Settings


async def test_healthz_is_ok_when_the_database_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    # The test hub runs no sequencer (tests/conftest.py); tests/log checks a running one.
    assert body["log"]["sequencer"] == "off"


async def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # The lifespan is not run: the point is a process whose database went away.
    app = create_app(
        Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", env="test")
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
