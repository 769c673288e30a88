"""Which alerts a caller sees, from the category table and the credit matrix.

A department sees the alerts whose category (their evidence's) its categories hold, open or
not. An enterprise sees, about itself, only alerts disposed as confirmed: never an open
alert, nor one cleared as a false positive. A bank sees the same as the enterprise, for
enterprises whose active consent names CREDIT; everyone else sees none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false

from hub.access.policy import Category
from hub.access.viewer import Viewer
from hub.risk.alerts import AlertStatus, Outcome
from hub.risk.models import RiskAlert


def alert_rows(viewer: Viewer) -> ColumnElement[bool]:
    """SQL predicate on `risk_alerts` selecting the alerts this caller may see."""
    if viewer.department:
        if Category.CREDIT not in viewer.department:
            return false()
        return RiskAlert.category.in_(sorted(c.value for c in viewer.department))
    confirmed = and_(
        RiskAlert.status == AlertStatus.DISPOSED.value,
        RiskAlert.outcome == Outcome.CONFIRMED.value,
    )
    codes = [
        code for code, active in viewer.consents.items() if Category.CREDIT in active.categories
    ]
    if viewer.enterprise:
        codes.append(viewer.enterprise)
    if not codes:
        return false()
    return and_(confirmed, RiskAlert.enterprise_code.in_(sorted(set(codes))))


def evidence_visible(viewer: Viewer, alert: RiskAlert) -> bool:
    """True when the caller reads the category of the alert's evidence for its enterprise."""
    return Category(alert.category) in viewer.listable(alert.enterprise_code)


def sees_actors(viewer: Viewer) -> bool:
    """Departments see which client acted; enterprises and banks only which department."""
    return viewer.sees_every_record
