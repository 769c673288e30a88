"""`hub verify-chain`: passes on an intact store, names the index of any tampering."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.foundation.test_cli import hub

ORDERS = 60


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file loaded once by `hub demo`; tests tamper with copies of it."""
    cwd = tmp_path_factory.mktemp("chain")
    db = cwd / "hub.db"
    loaded = hub("demo", "--orders", str(ORDERS), database_url=f"sqlite+aiosqlite:///{db}", cwd=cwd)
    assert loaded.returncode == 0, loaded.stderr
    return db


@pytest.fixture
def db(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database."""
    for suffix in ("", "-wal"):
        source = Path(f"{demo_template}{suffix}")
        if source.exists():
            shutil.copy2(source, tmp_path / f"hub.db{suffix}")
    return tmp_path / "hub.db"


def verify_chain(db: Path, *args: str) -> tuple[int, str]:
    result = hub("verify-chain", *args, database_url=f"sqlite+aiosqlite:///{db}", cwd=db.parent)
    assert not result.stderr, result.stderr
    return result.returncode, result.stdout


def count(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("SELECT count(*) FROM declarations").fetchone()[0])


def execute(db: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(db) as connection:
        cursor = connection.execute(sql, params)
        assert cursor.rowcount == 1


def test_verify_chain_passes_on_the_demo_database(db: Path) -> None:
    total = count(db)
    code, out = verify_chain(db)
    assert code == 0
    assert out.strip() == f"chain OK: {total:,} declarations verified (indexes 1..{total})"


def test_verify_chain_checks_only_the_range_asked_for(db: Path) -> None:
    execute(db, "UPDATE declarations SET payload = payload || ' ' WHERE chain_index = 300")
    code, out = verify_chain(db, "--from", "100", "--to", "200")
    assert code == 0
    assert out.strip() == "chain OK: 101 declarations verified (indexes 100..200)"
    assert verify_chain(db, "--from", "250", "--to", "350")[0] == 1


def test_an_altered_payload_is_named_by_its_index(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        (payload,) = connection.execute(
            "SELECT payload FROM declarations WHERE chain_index = 123"
        ).fetchone()
        record = json.loads(payload)
        record["appTime"] = "20240101000000"  # a back-dated record, canonical JSON kept
        connection.execute(
            "UPDATE declarations SET payload = ? WHERE chain_index = 123",
            (json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False),),
        )
    code, out = verify_chain(db)
    assert code == 1
    assert out.startswith("chain BROKEN: 1 problem(s)")
    assert "  index 123  PAYLOAD_ALTERED  " in out


def test_altered_provenance_is_named_by_its_index(db: Path) -> None:
    execute(db, "UPDATE declarations SET declarant = '91320303MA1W4K2L7X' WHERE chain_index = 42")
    code, out = verify_chain(db)
    assert code == 1
    assert "  index 42  LINK_ALTERED  " in out


def test_a_deleted_declaration_is_named_by_its_index(db: Path) -> None:
    total = count(db)
    execute(db, "DELETE FROM declarations WHERE chain_index = ?", total // 2)
    code, out = verify_chain(db)
    assert code == 1
    assert f"  index {total // 2}  MISSING  indexes {total // 2}..{total // 2} are absent" in out


def test_a_declaration_deleted_with_its_log_entry_breaks_the_next_link(db: Path) -> None:
    total = count(db)
    execute(db, "DELETE FROM log_entries WHERE seq = ?", total // 2)
    execute(db, "DELETE FROM declarations WHERE chain_index = ?", total // 2)
    code, out = verify_chain(db)
    assert code == 1
    assert f"  index {total // 2}  MISSING  indexes {total // 2}..{total // 2} are absent" in out
    assert f"  index {total // 2 + 1}  BROKEN_LINK  " in out


def test_json_output_lists_every_problem(db: Path) -> None:
    execute(db, "UPDATE declarations SET payload = payload || ' ' WHERE chain_index = 7")
    execute(db, "UPDATE declarations SET client_id = 'hub_intruder' WHERE chain_index = 9")
    code, out = verify_chain(db, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["checked"] == count(db)
    assert [(p["index"], p["kind"]) for p in report["problems"]] == [
        (7, "PAYLOAD_ALTERED"),
        (9, "LINK_ALTERED"),
    ]


def test_an_empty_chain_is_ok(tmp_path: Path) -> None:
    code, out = verify_chain(tmp_path / "empty.db")
    assert code == 0
    assert out.strip() == "chain OK: 0 declarations verified (empty range)"
