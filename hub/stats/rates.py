"""Exchange rates used by statistics: CNY per unit of each customs currency code.

These are configuration, not market data: the defaults are plausible round figures (2024
averages) so that totals across currencies are comparable at all. Set `HUB_FX_RATES` to the
rates your reporting period uses, as `CODE=RATE` pairs, e.g. `HUB_FX_RATES=502=7.10,300=7.80`;
codes not named keep their defaults, and new codes may be added. CNY (142) is the unit of
account and is always 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType

__all__ = [
    "CNY",
    "CURRENCY_NAMES",
    "DEFAULT_CNY_PER_UNIT",
    "ENV_VAR",
    "USD",
    "RateTable",
    "RatesError",
    "configured_rates",
    "parse_rates",
]

ENV_VAR = "HUB_FX_RATES"
CNY = "142"
USD = "502"

# Customs currency codes (GB/T 12406 numbering as used in customs declarations).
CURRENCY_NAMES: Mapping[str, str] = MappingProxyType(
    {"142": "CNY", "502": "USD", "300": "EUR", "116": "JPY", "110": "HKD"}
)

DEFAULT_CNY_PER_UNIT: Mapping[str, Decimal] = MappingProxyType(
    {
        "142": Decimal("1"),
        "502": Decimal("7.10"),
        "300": Decimal("7.80"),
        "116": Decimal("0.048"),
        "110": Decimal("0.91"),
    }
)


class RatesError(ValueError):
    """HUB_FX_RATES holds a value the hub cannot use."""


@dataclass(frozen=True)
class RateTable:
    """CNY per unit of each known currency code; CNY itself is 1."""

    cny_per_unit: Mapping[str, Decimal]

    def rate(self, currency: str) -> Decimal | None:
        """CNY per unit of the currency, or None when the table does not know it."""
        return self.cny_per_unit.get(currency)

    def to_cny(self, amount: Decimal, currency: str) -> Decimal | None:
        """The amount in CNY (unrounded), or None for an unknown currency."""
        rate = self.rate(currency)
        return None if rate is None else amount * rate

    @property
    def usd(self) -> Decimal:
        """CNY per US dollar: the divisor that turns CNY totals into USD."""
        return self.cny_per_unit[USD]


def parse_rates(
    text: str | None, *, base: Mapping[str, Decimal] = DEFAULT_CNY_PER_UNIT
) -> RateTable:
    """Overlays `CODE=RATE,CODE=RATE` on the base table, refusing malformed entries loudly."""
    table = dict(base)
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        code, sep, raw = entry.partition("=")
        code, raw = code.strip(), raw.strip()
        if not sep or not (len(code) == 3 and code.isascii() and code.isdigit()):
            raise RatesError(
                f"{ENV_VAR}: {entry!r} is not CODE=RATE with a 3-digit customs currency code "
                "(e.g. 502=7.10)"
            )
        try:
            rate = Decimal(raw)
        except InvalidOperation as exc:
            raise RatesError(f"{ENV_VAR}: {entry!r}: {raw!r} is not a number") from exc
        if not rate.is_finite() or rate <= 0:
            raise RatesError(f"{ENV_VAR}: {entry!r}: the rate must be a positive number")
        if code == CNY and rate != 1:
            raise RatesError(f"{ENV_VAR}: {entry!r}: CNY (142) is the unit of account, always 1")
        table[code] = rate
    if USD not in table:
        raise RatesError(f"{ENV_VAR}: no USD (502) rate; forex totals are in USD")
    return RateTable(MappingProxyType(table))


@lru_cache(maxsize=8)
def _parsed(text: str) -> RateTable:
    return parse_rates(text)


def configured_rates(environ: Mapping[str, str] | None = None) -> RateTable:
    """The rate table in force: defaults overlaid with HUB_FX_RATES (parsed once per value)."""
    env = os.environ if environ is None else environ
    return _parsed(env.get(ENV_VAR, ""))
