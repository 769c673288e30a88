"""Custom formats: USCC (GB 32100-2015), enterprise, customs and HS codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.standards.formats import (
    FORMAT_CHECKERS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    is_customs_code,
    is_enterprise_code,
    is_hs_code,
    is_uscc,
    uscc_check_char,
    uscc_division,
)

PUBLISHED_EXAMPLES = ["91350100M000100Y43", "91440300708461136T"]
XUZHOU = "91320303MA1PLT001" + uscc_check_char("91320303MA1PLT001")


def test_alphabet_has_31_characters_without_confusable_letters() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)


def test_weights_are_powers_of_three_mod_31() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", PUBLISHED_EXAMPLES)
def test_check_char_matches_published_examples(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", [*PUBLISHED_EXAMPLES, XUZHOU])
def test_checksum_valid_uscc_is_accepted(code: str) -> None:
    assert is_uscc(code)
    assert is_enterprise_code(code)


def test_uscc_with_wrong_check_char_is_rejected() -> None:
    good = PUBLISHED_EXAMPLES[0]
    for char in USCC_ALPHABET.replace(good[17], ""):
        assert not is_uscc(good[:17] + char)
        assert not is_enterprise_code(good[:17] + char)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_with_forbidden_letter_is_rejected(letter: str) -> None:
    body = XUZHOU[:16] + letter
    assert not is_uscc(body + "0")
    assert not is_uscc(XUZHOU[:17] + letter)  # forbidden as the check character too
    with pytest.raises(ValueError, match="not in the USCC alphabet"):
        uscc_check_char(body)


@pytest.mark.parametrize("code", ["", XUZHOU[:17], XUZHOU + "0", XUZHOU[:-1], " " + XUZHOU])
def test_uscc_of_wrong_length_is_rejected(code: str) -> None:
    assert not is_uscc(code)


def test_uscc_is_case_sensitive_and_rejects_trailing_newline() -> None:
    assert not is_uscc(XUZHOU.lower())
    assert not is_uscc(XUZHOU + "\n")


def test_uscc_division_must_be_digits() -> None:
    body = "9132A303MA1PLT001"
    assert not is_uscc(body + uscc_check_char(body))


def test_check_char_needs_exactly_17_characters() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_char("9132")


def test_division_is_positions_three_to_eight() -> None:
    assert uscc_division(XUZHOU) == "320303"
    assert uscc_division(PUBLISHED_EXAMPLES[0]) == "350100"
    assert uscc_division("not a code") is None


def test_enterprise_code_accepts_ten_character_customs_registration_code() -> None:
    assert is_enterprise_code("3203960ABC")
    assert is_enterprise_code("320396000I")  # customs codes are not limited to the USCC alphabet
    assert not is_enterprise_code("3203960abc")
    assert not is_enterprise_code("3203960AB")
    assert not is_enterprise_code("3203960ABCD")
    assert not is_uscc("3203960ABC")


@pytest.mark.parametrize("code", ["2305", "0000", "9999"])
def test_four_digit_customs_code_is_accepted(code: str) -> None:
    assert is_customs_code(code)


@pytest.mark.parametrize("code", ["230", "23050", "23A5", "", "２３０５", "2305\n"])
def test_malformed_customs_code_is_rejected(code: str) -> None:
    assert not is_customs_code(code)


@pytest.mark.parametrize("code", ["1901101010", "6109100021", "0000000000"])
def test_ten_digit_hs_code_is_accepted(code: str) -> None:
    assert is_hs_code(code)


@pytest.mark.parametrize(
    "code", ["19011010", "190110101", "19011010100", "1901.10.10", "190110101０", "1901101010\n"]
)
def test_hs_code_that_is_not_exactly_ten_ascii_digits_is_rejected(code: str) -> None:
    assert not is_hs_code(code)


@pytest.mark.parametrize("name", sorted(FORMAT_CHECKERS))
@pytest.mark.parametrize("value", [5, 1.5, None, True, [], {}])
def test_formats_let_non_strings_through(name: str, value: object) -> None:
    assert FORMAT_CHECKERS[name](value)


def test_format_names_are_the_documented_ones() -> None:
    assert set(FORMAT_CHECKERS) == {"uscc", "enterprise-code", "customs-code", "hs-code"}


USCC_BODIES = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(body=USCC_BODIES)
def test_any_body_with_its_check_char_is_valid_and_any_other_char_is_not(body: str) -> None:
    check = uscc_check_char(body)
    assert check in USCC_ALPHABET
    assert is_uscc(body + check) == (body[2:8].isdigit())
    if body[2:8].isdigit():
        wrong = USCC_ALPHABET[(USCC_ALPHABET.index(check) + 1) % 31]
        assert not is_uscc(body + wrong)


@given(body=USCC_BODIES, position=st.integers(0, 16), shift=st.integers(1, 30))
def test_any_single_character_change_is_detected(body: str, position: int, shift: int) -> None:
    changed_char = USCC_ALPHABET[(USCC_ALPHABET.index(body[position]) + shift) % 31]
    changed = body[:position] + changed_char + body[position + 1 :]
    # Weights are non-zero mod the prime 31, so one substitution always changes the check.
    assert uscc_check_char(changed) != uscc_check_char(body)
