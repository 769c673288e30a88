"""The suite's PostgreSQL policy, run as a user runs it: pytest in a subprocess.

Without a reachable PostgreSQL the session stops at start with a message saying what to do;
with HUB_TEST_SKIP_POSTGRES=1 it runs the SQLite variants and says loudly, at the end, how
many PostgreSQL ones it skipped. Databases the suite did not create are never emptied.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE_PREFIX, assert_created_here

ROOT = Path(__file__).resolve().parents[2]
# One fast test that runs on both databases (`http` needs `database_url`).
TARGET = "tests/foundation/test_health.py::test_healthz_is_ok_when_the_database_answers"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("HUB_TEST_POSTGRES_URL", "CI")}
    base.pop("HUB_TEST_SKIP_POSTGRES", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", TARGET],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreachable_postgresql_stops_the_session_with_what_to_do() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test"
    result = _pytest(HUB_TEST_POSTGRES_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "PostgreSQL is not reachable at" in output
    assert "HUB_TEST_SKIP_POSTGRES=1" in output
    assert " passed" not in output  # nothing ran


def test_skipping_postgresql_on_purpose_runs_sqlite_and_counts_the_skips_loudly() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test"
    result = _pytest(HUB_TEST_POSTGRES_URL=url, HUB_TEST_SKIP_POSTGRES="1")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed, 1 skipped" in output
    assert "PostgreSQL NOT TESTED" in output
    assert "1 test(s) were skipped because HUB_TEST_SKIP_POSTGRES=1" in output


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",  # the admin URL's own database
        "postgresql+asyncpg://postgres@127.0.0.1:5432/production",
        # the prefix alone does not make a database the suite's own
        f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE_PREFIX}notours",
    ],
)
def test_the_suite_refuses_to_empty_a_database_it_did_not_create(url: str) -> None:
    with pytest.raises(RuntimeError, match="only empties databases it created"):
        assert_created_here(url)
