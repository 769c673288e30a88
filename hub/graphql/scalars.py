"""Custom scalars: money as an exact decimal string."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from decimal import InvalidOperation
from typing import NewType

import strawberry

Decimal = strawberry.scalar(
    NewType("Decimal", PyDecimal),
    name="Decimal",
    description='An exact decimal number serialised as a string, e.g. "1234.50".',
    serialize=lambda value: format(PyDecimal(value), "f"),
    parse_value=lambda value: _parse(value),
)


def _parse(value: object) -> PyDecimal:
    try:
        return PyDecimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a decimal number") from exc
