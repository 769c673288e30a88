"""The `hub` command, run as a user runs it (a subprocess with HUB_* variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import blocking


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


def test_clients_create_list_disable_round_trip(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    created = hub(
        "clients",
        "create",
        "--name",
        "Tax bureau",
        "--scopes",
        "tax:read",
        "--json",
        database_url=url,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert data["client_id"].startswith("hub_")
    assert len(data["client_secret"]) >= 40
    assert data["scopes"] == "tax:read"

    listed = hub("clients", "list", "--json", database_url=url, cwd=tmp_path)
    rows = json.loads(listed.stdout)
    assert [r["client_id"] for r in rows] == [data["client_id"]]
    assert "secret" not in listed.stdout
    assert rows[0]["disabled"] is False

    assert (
        hub("clients", "disable", data["client_id"], database_url=url, cwd=tmp_path).returncode == 0
    )
    rows = json.loads(hub("clients", "list", "--json", database_url=url, cwd=tmp_path).stdout)
    assert rows[0]["disabled"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scopes", "root"), "unknown scope 'root'"),
        (("--scopes", "declare"), "must be bound to an enterprise"),
    ],
)
def test_clients_create_refuses_bad_input_with_a_message(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = hub("clients", "create", "--name", "x", *args, database_url=url, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'up.db'}"
    assert hub("db", "upgrade", database_url=url, cwd=tmp_path).returncode == 0
    current = hub("db", "current", database_url=url, cwd=tmp_path)
    db_rev, code_rev = (part.split(": ")[1] for part in current.stdout.strip().split("; "))
    assert db_rev == code_rev != "empty"


def test_serve_refuses_a_postgres_database_that_is_behind(
    tmp_path: Path, fresh_postgres_database: object
) -> None:
    url = blocking(fresh_postgres_database)  # type: ignore[arg-type]
    result = hub("serve", "--port", "1", database_url=url, cwd=tmp_path)
    assert result.returncode == 2
    assert "hub db upgrade" in result.stderr


def test_schema_prints_the_sdl(tmp_path: Path) -> None:
    result = hub("schema", database_url="sqlite+aiosqlite:///unused.db", cwd=tmp_path)
    assert result.returncode == 0
    assert "type Query" in result.stdout
    assert "me: Me!" in result.stdout
