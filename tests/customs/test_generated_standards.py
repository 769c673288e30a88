"""The 2.0.0 standards are generated from the specification and kept up to date."""

from __future__ import annotations

from tools import derive_standards


def test_generated_standards_and_deviation_table_are_up_to_date() -> None:
    stale = [
        str(path.relative_to(derive_standards.ROOT))
        for path, text in derive_standards.rendered().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run: .venv/bin/python -m tools.derive_standards"


# The messages 1.0.0 never modelled (623, 625, 507, 509, 701, 792, 816) start at 2.0.0.
NEW_IN_2 = {
    "cbec.inventory-cancel",
    "cbec.inventory-return",
    "cbec.arrival",
    "cbec.departure",
    "cbec.summary-apply",
    "cbec.summary-result",
    "cbec.tax-bill",
}


def test_every_covered_standard_has_a_2_0_0_file_next_to_its_1_0_0() -> None:
    for covered in derive_standards.COVERED:
        folder = derive_standards.STANDARDS / covered.standard_id
        assert (folder / "1.0.0.json").exists() == (covered.standard_id not in NEW_IN_2)
        assert (folder / "2.0.0.json").exists()
        assert (folder / "standard.json").exists()


def test_decimal_pattern_counts_total_and_fraction_digits() -> None:
    import re

    pattern = re.compile(derive_standards.decimal_pattern(19, 5))
    assert pattern.match("1234567890123456789")
    assert pattern.match("12345678901234.12345")
    assert pattern.match("-0.5")
    assert not pattern.match("12345678901234567890")
    assert not pattern.match("123456789012345.12345")
    assert not pattern.match("1.123456")
    assert not pattern.match("1.")
