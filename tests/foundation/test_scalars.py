"""Money travels as exact decimal strings, without the database's zero padding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.graphql.scalars import SCALARS
from hub.graphql.scalars import Decimal as DecimalScalar


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("1300.81000", "1300.81"),
        ("100.00000", "100"),
        ("1E+2", "100"),
        ("0.00000", "0"),
        ("-3.10", "-3.1"),
        ("12345678901234.12345", "12345678901234.12345"),
    ],
)
def test_decimals_serialise_exactly_without_padding(stored: str, shown: str) -> None:
    assert SCALARS[DecimalScalar].serialize(Decimal(stored)) == shown


def test_decimal_input_refuses_non_numbers() -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        SCALARS[DecimalScalar].parse_value("twelve")
