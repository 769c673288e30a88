"""docs/rules.md documents every RuleConfig switch with its true default: generated from
the dataclass, so a new switch without a row, a row for a removed one, or a default that
drifted from the code fails here."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest

from hub.trade.rules_config import DEFAULT_RULES, RuleConfig, parse_overrides

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
# A row of the switches table: | `name` | `default` or (empty) | meaning | text |
_ROW = re.compile(r"^\| `(?P<name>[a-z_]+)` \| (?:`(?P<default>[^`]*)`|\(empty\)) \|(?P<rest>.*)$")


def _rows() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        name = match["name"]
        assert name not in rows, f"docs/rules.md documents {name} twice"
        # Inside a table cell a `|` is written `\|`.
        default = (match["default"] or "").replace("\\|", "|")
        rows[name] = (default, match["rest"])
    return rows


FIELDS = [f.name for f in dataclasses.fields(RuleConfig)]


def test_every_rule_config_switch_has_exactly_one_row_in_docs_rules() -> None:
    documented = set(_rows())
    assert sorted(set(FIELDS) - documented) == [], "switches without a row in docs/rules.md"
    assert sorted(documented - set(FIELDS)) == [], "rows in docs/rules.md naming no switch"


@pytest.mark.parametrize("name", FIELDS)
def test_the_documented_default_is_the_code_default(name: str) -> None:
    default, _ = _rows()[name]
    # The cell is written as HUB_RULES takes it: parsing it gives the default back.
    parsed = parse_overrides(f"{name}={default}")
    assert getattr(parsed, name) == getattr(DEFAULT_RULES, name), (name, default)


@pytest.mark.parametrize("name", FIELDS)
def test_each_row_says_what_the_switch_means_and_which_text_it_follows(name: str) -> None:
    _, rest = _rows()[name]
    meaning, text, *_ = (cell.strip() for cell in re.split(r"(?<!\\)\|", rest))
    assert len(meaning) > 20 and text, (name, meaning, text)


def test_the_hub_rules_example_in_docs_rules_parses() -> None:
    (line,) = [
        line for line in DOC.read_text(encoding="utf-8").splitlines() if "HUB_RULES='" in line
    ]
    assignment = shlex.split(line)[0]
    value = assignment.partition("=")[2]
    rules = parse_overrides(value)
    assert rules != DEFAULT_RULES
    assert rules.amount_tolerance > 0 and rules.payer_must_be_buyer
