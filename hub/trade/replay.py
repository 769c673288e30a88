"""Re-match every stored order under the current rules and rebuild the limits' totals.

For when the rules change (HUB_RULES: a new annual limit by decree, another reading of a
switch) or after a restore: matching, tax and the annual-limit running totals are
recomputed from the stored documents, orders replayed in arrival (id) order from empty
totals. Runs in the caller's transaction, so concurrent writers wait or see none of it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.trade import projection, quota
from hub.trade.models import Order
from hub.trade.rules_config import RuleConfig

__all__ = ["rebuild"]

_CHUNK = 400


async def rebuild(
    *,
    session: AsyncSession,
    rules: RuleConfig,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-matches every order oldest first from empty limit totals; returns how many."""
    await quota.clear(session=session)
    total = (await session.execute(select(func.count()).select_from(Order))).scalar_one()
    done = 0
    last_id = 0
    while True:
        rows = (
            await session.execute(
                select(Order.id, Order.ebp_code, Order.order_no)
                .where(Order.id > last_id)
                .order_by(Order.id)
                .limit(_CHUNK)
            )
        ).all()
        if not rows:
            return done
        last_id = rows[-1].id
        keys = {(row.ebp_code, row.order_no) for row in rows}
        await projection.rematch(session=session, keys=keys, rules=rules)
        done += len(rows)
        if progress is not None:
            progress(done, total)
