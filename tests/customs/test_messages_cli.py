"""`hub messages import FILE... --as CODE`, run as a user runs it: progress per file, the
enterprise it declares as, duplicates on a re-run, refusals reported and the exit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.customs.test_xml_intake import SAMPLES
from tests.foundation.test_cli import hub

PLATFORM = "1105910159"  # the 311 sample's ebpCode and ebcCode
# The 311 sample holds one order six times over: one declaration, five duplicates of it.


def _database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    for args in (("db", "upgrade"), ("standards", "publish", "--shipped")):
        done = hub(*args, database_url=url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    return url


def _declarations(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "hub.db") as db:
        return db.execute(
            "SELECT declarant, client_id, standard_id FROM declarations ORDER BY chain_index"
        ).fetchall()


def test_import_declares_as_the_named_enterprise_with_progress_and_is_idempotent(
    tmp_path: Path,
) -> None:
    url = _database(tmp_path)
    order = SAMPLES / "CEB311.xml"
    done = hub("messages", "import", str(order), "--as", PLATFORM, database_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"[1/1] {order}: CEB311Message 1 accepted, 5 duplicate, 0 refused" in done.stderr
    assert done.stdout.strip() == "1 file(s): 1 accepted, 5 duplicate, 0 refused"
    declared = _declarations(tmp_path)
    assert declared == [(PLATFORM, "hub-cli:messages-import", "cbec.order")]
    with sqlite3.connect(tmp_path / "hub.db") as db:
        (kept,) = db.execute("SELECT body FROM customs_messages").fetchone()
    assert kept == order.read_bytes()  # the original bytes, as from POST /messages

    again = hub("messages", "import", str(order), "--as", PLATFORM, database_url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 accepted, 6 duplicate, 0 refused" in again.stdout
    assert len(_declarations(tmp_path)) == 1


def test_import_reports_each_refusal_goes_on_and_exits_1(tmp_path: Path) -> None:
    url = _database(tmp_path)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<ceb:CEB311Message xmlns:ceb='http://www.chinaport.gov.cn/ceb'>")
    files = [
        str(broken),
        str(tmp_path / "missing.xml"),
        str(SAMPLES / "CEB303.xml"),  # invalid test values: every record refused
        str(SAMPLES / "CEB311.xml"),
    ]
    done = hub("messages", "import", *files, "--as", PLATFORM, database_url=url, cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(line.startswith(f"[1/4] {broken}: refused: not well-formed XML") for line in lines)
    assert any(line.startswith("[2/4]") and "refused" in line for line in lines)
    assert any(line.endswith("CEB303Message 0 accepted, 0 duplicate, 10 refused") for line in lines)
    assert any(line.endswith("CEB311Message 1 accepted, 5 duplicate, 0 refused") for line in lines)
    # Each refused record is listed with its code and element path.
    assert "SCHEMA_VIOLATION /CEB303Message/Order[1]/OrderList[1]/unit:" in done.stdout
    assert done.stdout.splitlines()[-1] == "4 file(s): 1 accepted, 5 duplicate, 10 refused"
    assert len(_declarations(tmp_path)) == 1


def test_import_as_an_enterprise_the_message_does_not_name_declares_nothing(
    tmp_path: Path,
) -> None:
    url = _database(tmp_path)
    order = str(SAMPLES / "CEB311.xml")
    done = hub("messages", "import", order, "--as", "9999999999", database_url=url, cwd=tmp_path)
    assert done.returncode == 1
    assert "0 accepted, 0 duplicate, 6 refused" in done.stderr
    assert done.stdout.count("NOT_A_PARTY") == 6
    assert _declarations(tmp_path) == []


def test_import_needs_files_and_an_enterprise(tmp_path: Path) -> None:
    url = _database(tmp_path)
    no_as = hub("messages", "import", str(SAMPLES / "CEB311.xml"), database_url=url, cwd=tmp_path)
    assert no_as.returncode == 2 and "--as" in no_as.stderr
    no_files = hub("messages", "import", "--as", PLATFORM, database_url=url, cwd=tmp_path)
    assert no_files.returncode == 2 and "FILE" in no_files.stderr
