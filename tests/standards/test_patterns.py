"""The linear pattern engine reads ECMA-262 patterns as jsonschema-rs's `regex` crate does."""

from __future__ import annotations

import jsonschema_rs
import pytest

from hub.standards import patterns

CASES = [
    (r"^\s$", ["\u00a0", "\v", "\u2028", "\ufeff", " ", "\t", "x"]),
    (r"^\S+$", ["abc", "a\u00a0b", "a b"]),
    (r"^[\s,]+$", [" ,\u3000", "a"]),
    (r"^\u0041\u00e9$", ["Aé", "A"]),
    (r"^\cJ$", ["\n", "J"]),
    (r"^[0-9]+$", ["100", "100\n", "١٠٠"]),
    (r"^\d{2}$", ["12", "١٢"]),
    (r"^\w+$", ["abc_1", "é"]),
    (r"^.$", ["😀", "\n", "a"]),
    (r"^(a+)+$", ["a" * 40 + "!", "aaaa"]),
    (r"^a|b$", ["ax", "xb", "x"]),
]


@pytest.mark.parametrize(("pattern", "values"), CASES)
def test_re2_and_the_rust_regex_crate_agree(pattern: str, values: list[str]) -> None:
    rust = jsonschema_rs.validator_for(
        {"type": "string", "pattern": pattern}, pattern_options=jsonschema_rs.RegexOptions()
    )
    for value in values:
        assert (patterns.search(pattern, value) is not None) == rust.is_valid(value), value


def test_dollar_is_the_end_of_the_string_not_of_a_line() -> None:
    assert patterns.search("^[0-9]+$", "100\n") is None


@pytest.mark.parametrize("pattern", ["(?=a)", "(?<!a)b", r"(a)\1", "(["])
def test_what_the_linear_engine_cannot_run_is_reported(pattern: str) -> None:
    assert patterns.check(pattern) is not None
    with pytest.raises(patterns.UnsupportedPattern):
        patterns.search(pattern, "a")


def test_patterns_are_found_wherever_a_ref_could_reach_them() -> None:
    schema = {
        "properties": {"a": {"pattern": "^x$"}, "pattern": {"type": "string"}},
        "patternProperties": {"^k": {}},
        "$defs": {"d": {"items": [{"pattern": "^y$"}]}},
        "const": {"pattern": "^z$"},
    }
    assert patterns.find_patterns(schema) == [
        ("/$defs/d/items/0/pattern", "^y$"),
        ("/const/pattern", "^z$"),
        ("/patternProperties/^k", "^k"),
        ("/properties/a/pattern", "^x$"),
    ]
