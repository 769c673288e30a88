"""Custom JSON Schema formats for customs identifiers (USCC, customs, HS codes).

Every checker follows JSON Schema semantics: a format only constrains strings, so any
non-string value passes (the `type` keyword is what rejects it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "FORMAT_CHECKERS",
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "is_customs_code",
    "is_enterprise_code",
    "is_hs_code",
    "is_uscc",
    "uscc_check_char",
    "uscc_division",
]

# GB 32100-2015: 31 characters, a character's value is its index; I, O, S, V, Z are left out
# because they are easily confused with 1, 0, 5, U and 2.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of position i (0-based) is 3**i mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

_VALUE = {char: index for index, char in enumerate(USCC_ALPHABET)}
# Shape checks are regexes because they run in C; the checksum is the only Python loop.
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
_CUSTOMS_REGISTRATION_SHAPE = re.compile(r"[0-9A-Z]{10}")
_CUSTOMS_CODE_SHAPE = re.compile(r"[0-9]{4}")
_HS_CODE_SHAPE = re.compile(r"[0-9]{10}")


def uscc_check_char(code17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(code17) != 17:
        raise ValueError(f"a USCC body has 17 characters, got {len(code17)}")
    try:
        total = sum(
            _VALUE[char] * weight for char, weight in zip(code17, USCC_WEIGHTS, strict=True)
        )
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the USCC alphabet") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


# Real traffic repeats the same few hundred enterprise codes in every record, and these
# checkers run as Python callbacks inside the Rust validator: caching keeps the hot path cheap.
@lru_cache(maxsize=8192)
def _uscc_string_ok(value: str) -> bool:
    if _USCC_SHAPE.fullmatch(value) is None:
        return False
    return uscc_check_char(value[:17]) == value[17]


@lru_cache(maxsize=8192)
def _enterprise_string_ok(value: str) -> bool:
    if len(value) == 10:
        return _CUSTOMS_REGISTRATION_SHAPE.fullmatch(value) is not None
    return _uscc_string_ok(value)


def is_uscc(value: object) -> bool:
    """Tell whether a string is an 18-character USCC with a correct check character."""
    if not isinstance(value, str):
        return True
    return _uscc_string_ok(value)


def is_enterprise_code(value: object) -> bool:
    """Tell whether a string is a valid USCC or a 10-character customs registration code."""
    if not isinstance(value, str):
        return True
    return _enterprise_string_ok(value)


def describe_enterprise_code_problem(code: str) -> str | None:
    """Why `code` is not a valid enterprise code (USCC or customs code), or None when it is."""
    if _enterprise_string_ok(code):
        return None
    if len(code) == 10:
        return "a 10-character customs registration code has only digits and capital letters"
    if len(code) != 18:
        return (
            "expected an 18-character USCC (GB 32100-2015) or a 10-character customs "
            f"registration code, got {len(code)} characters"
        )
    if _USCC_SHAPE.fullmatch(code) is None:
        return (
            "not a USCC: characters 1-2 and 9-18 come from 0-9 and A-Y without I, O, S, V "
            "and Z, characters 3-8 are digits"
        )
    expected = uscc_check_char(code[:17])
    return f"the USCC check character (18th) should be {expected!r}, not {code[17]!r}"


def is_customs_code(value: object) -> bool:
    """Tell whether a string is a 4-digit customs office or port code."""
    if not isinstance(value, str):
        return True
    return _CUSTOMS_CODE_SHAPE.fullmatch(value) is not None


def is_hs_code(value: object) -> bool:
    """Tell whether a string is a 10-digit HS code (8-digit tariff line + 2-digit supplement)."""
    if not isinstance(value, str):
        return True
    return _HS_CODE_SHAPE.fullmatch(value) is not None


def uscc_division(code: str) -> str | None:
    """Return the 6-digit administrative division of a well-formed USCC, else None."""
    if not isinstance(code, str) or _USCC_SHAPE.fullmatch(code) is None:
        return None
    return code[2:8]


FORMAT_CHECKERS: dict[str, Callable[[object], bool]] = {
    "uscc": is_uscc,
    "enterprise-code": is_enterprise_code,
    "customs-code": is_customs_code,
    "hs-code": is_hs_code,
}
