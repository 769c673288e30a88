"""Where an enterprise is registered: USCC division code → city and district.

Positions 3-8 of a USCC are the administrative division (GB/T 2260) at registration time.
The table keeps divisions that have since been abolished or renamed (Gangzha was merged into
Chongchuan and Haimen became a district in 2020), because codes issued before then still
carry them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CITIES", "DISTRICTS", "Region", "region_of"]

CITIES: dict[str, str] = {
    "3203": "Xuzhou",
    "3206": "Nantong",
}

DISTRICTS: dict[str, str] = {
    # Xuzhou
    "320302": "Gulou",
    "320303": "Yunlong",
    "320305": "Jiawang",
    "320311": "Quanshan",
    "320312": "Tongshan",
    "320321": "Fengxian",
    "320322": "Peixian",
    "320324": "Suining",
    "320371": "Xuzhou Economic and Technological Development Zone",
    "320381": "Xinyi",
    "320382": "Pizhou",
    # Nantong
    "320602": "Chongchuan",
    "320611": "Gangzha",
    "320612": "Tongzhou",
    "320614": "Haimen",
    "320623": "Rudong",
    "320671": "Nantong Economic and Technological Development Zone",
    "320681": "Qidong",
    "320682": "Rugao",
    "320684": "Haimen",
    "320685": "Hai'an",
}


@dataclass(frozen=True, slots=True)
class Region:
    """A division code with its city and district names where known."""

    division: str
    city: str | None
    district: str | None


def region_of(*, code: str) -> Region | None:
    """Resolve a 6-digit division or an 18-character USCC to its region; None if no division."""
    if len(code) == 18:
        division = code[2:8]
    elif len(code) == 6:
        division = code
    else:
        # 10-character customs registration codes carry no district: nothing to resolve.
        return None
    if not (division.isascii() and division.isdigit()):
        return None
    return Region(
        division=division,
        city=CITIES.get(division[:4]),
        district=DISTRICTS.get(division),
    )
