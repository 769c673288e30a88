"""Custom scalars: money as an exact decimal string."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING, NewType, TypeAlias

import strawberry
from strawberry.types.scalar import ScalarDefinition

if TYPE_CHECKING:
    # To the type checker the scalar is the decimal resolvers return; the NewType exists
    # only so strawberry can map it to the GraphQL scalar below.
    Decimal: TypeAlias = PyDecimal
else:
    Decimal = NewType("Decimal", PyDecimal)


def _parse(value: object) -> PyDecimal:
    try:
        return PyDecimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a decimal number") from exc


def _serialize(value: object) -> str:
    # Numeric(24, 5) columns hand back 1300.81000: drop the padding, never the precision.
    number = PyDecimal(str(value))
    if number == number.to_integral_value():
        return format(number.quantize(PyDecimal(1)), "f")
    return format(number.normalize(), "f")


SCALARS: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number serialised as a string, e.g. "1234.50".',
        serialize=_serialize,
        parse_value=_parse,
    )
}
