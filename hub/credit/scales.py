"""The departments' rating scales: which values each may record, and which are dishonest.

Each value carries a standing between 0 (best) and 1 (worst): the credit evaluation reads
a department's rating through it, so scales of different lengths weigh alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.access.policy import Department


@dataclass(frozen=True)
class RatingScale:
    """One department's scale: its values best first, and those meaning 'dishonest'."""

    name: str
    values: tuple[str, ...]
    dishonest: frozenset[str]

    def standing(self, value: str) -> float:
        """0.0 for the best value, 1.0 for the worst."""
        return self.values.index(value) / (len(self.values) - 1)


SCALES: dict[Department, RatingScale] = {
    # China Customs' enterprise credit management: advanced-certified, registered, dishonest.
    Department.CUSTOMS: RatingScale(
        "CUSTOMS_CREDIT",
        ("ADVANCED_CERTIFIED", "REGISTERED", "DISHONEST"),
        frozenset({"DISHONEST"}),
    ),
    # Tax credit grades; D is the dishonest grade.
    Department.TAX: RatingScale("TAX_GRADE", ("A", "B", "M", "C", "D"), frozenset({"D"})),
    # SAFE's classification of enterprises for goods-trade forex; C is the restricted class.
    Department.FOREX: RatingScale("FOREX_CLASS", ("A", "B", "C"), frozenset({"C"})),
    # Market supervision's lists: abnormal operation, serious dishonesty.
    Department.MARKET: RatingScale(
        "MARKET_LIST",
        ("NORMAL", "ABNORMAL_OPERATION", "SERIOUS_DISHONESTY"),
        frozenset({"SERIOUS_DISHONESTY"}),
    ),
}
