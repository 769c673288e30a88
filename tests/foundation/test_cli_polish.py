"""The `hub` command as a new user meets it: help everywhere, clear refusals, pipes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.cli import EXIT_BROKEN_PIPE, build_parser
from tests.foundation.test_cli import hub


def _parsers(parser: argparse.ArgumentParser, path: str = "hub") -> Iterator[tuple[str, object]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_and_argument_of_every_command_has_help_text() -> None:
    missing = [
        f"{path} {'/'.join(action.option_strings) or action.dest}"  # type: ignore[attr-defined]
        for path, action in _parsers(build_parser())
        if not (action.help or "").strip()  # type: ignore[attr-defined]
    ]
    assert missing == []


def test_every_subcommand_has_help_text() -> None:
    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                for name, sub in action.choices.items():
                    if name not in helped:
                        yield f"{path} {name}"
                    yield from walk(sub, f"{path} {name}")

    assert list(walk(build_parser(), "hub")) == []


def test_clients_create_refuses_an_enterprise_code_with_a_wrong_check_character(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    # The check character of 91320303MA1PLT001 is 9: 8 is a typo.
    result = hub(
        *("clients", "create", "--name", "ERP", "--scopes", "declare"),
        *("--enterprise", "91320303MA1PLT0018"),
        database_url=url,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "check character (18th) should be '9'" in result.stderr
    assert "Traceback" not in result.stderr
    listed = hub("clients", "list", "--json", database_url=url, cwd=tmp_path)
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91320302MA1XYZ0001", "not a USCC"),  # Z is not in the USCC alphabet
        ("9132", "got 4 characters"),
        ("32019abcde", "customs registration code has only digits and capital letters"),
    ],
)
def test_clients_create_explains_what_is_wrong_with_an_enterprise_code(
    tmp_path: Path, code: str, message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = hub(
        *("clients", "create", "--name", "ERP", "--scopes", "declare", "--enterprise", code),
        database_url=url,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert message in result.stderr


def test_clients_create_accepts_a_valid_uscc_and_a_customs_code(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for code in ("91320303MA1PLT0019", "3201960ABC"):
        result = hub(
            *("clients", "create", "--name", code, "--scopes", "declare"),
            *("--enterprise", code, "--json"),
            database_url=url,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["enterprise"] == code


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my-order.json", "the file name must be the version"),
        ("standards/cbec.order/1.1.json", "the file name must be the version"),
        ("order.txt", "name a version file <id>/<version>.json"),
        ("standards/cbec.order/9.9.9.json", "no such file"),
    ],
)
@pytest.mark.parametrize("command", ["check", "publish"])
def test_a_misnamed_or_missing_version_file_is_a_clear_error_with_exit_code_2(
    tmp_path: Path, command: str, name: str, message: str
) -> None:
    target = tmp_path / name
    if "9.9.9" not in name:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('{"type": "object"}', encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    result = hub("standards", command, name, database_url=url, cwd=tmp_path)
    # 1 would mean "incompatible" for `standards check`: a naming mistake is not that.
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_pipe_ends_the_command_quietly_with_the_sigpipe_status(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "HUB_DATABASE_URL": "sqlite+aiosqlite:///unused.db"},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first byte is written, like `head`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
