"""Finding 4: a cross-platform oracle and poisoning through the annual limit.

The annual limit (CNY 26,000 per buyer and year) was checked against every order of the
buyer, whoever declared it. A platform binary-searched a buyer's spending on another
platform from its own orders' `riskFlags`; five fabricated orders for that buyer flagged
the other platform's real orders `ANNUAL_LIMIT_EXCEEDED`.

Now an order counts against another platform's orders only once customs accepted its
inventory, on a receipt forwarded by someone other than the order's platform and seller
(docs/rules.md, "What counts toward a buyer's year"); until then it counts for its own
platform only. A platform therefore learns only that its own order exceeds the limit.
"""

from __future__ import annotations

from typing import Any

from tests.builders.retail import (
    AGENT,
    BUYER,
    PLATFORM,
    RIVAL_PLATFORM,
    THIRD_BUYER,
    RetailHub,
    retail_hub,
    retail_order,
)

__all__ = ["retail_hub"]

ANNUAL = "ANNUAL_LIMIT_EXCEEDED"


def _rival(order_no: str, value: int, buyer: dict[str, str], app_time: str) -> Any:
    """A fabricated order: the rival names itself platform, seller, agent and guarantor."""
    return retail_order(
        order_no,
        value,
        platform=RIVAL_PLATFORM,
        seller=RIVAL_PLATFORM,
        agent=RIVAL_PLATFORM,
        buyer=buyer,
        app_time=app_time,
    )


async def _victim_spends(hub: RetailHub, buyer: dict[str, str], values: list[int]) -> list[Any]:
    """The victim's real orders for `buyer`, each accepted and released by customs."""
    orders = []
    for n, value in enumerate(values):
        docs = retail_order(
            f"V-{buyer['id'][-4:]}-{n}", value, buyer=buyer, app_time=f"202402{n + 1:02d}100000"
        )
        await hub.order_with_inventory(docs, as_=PLATFORM)
        await hub.receipt(docs, 120, f"202402{n + 1:02d}110000", as_=AGENT)
        await hub.receipt(docs, 800, f"202402{n + 1:02d}120000", as_=AGENT)
        orders.append(docs)
    return orders


async def _binary_search(hub: RetailHub, buyer: dict[str, str]) -> list[tuple[int, bool]]:
    """The rival's probes: the largest order value (in steps of 100) that is not flagged.

    Each probe is a fabricated order with inventory and a customs acceptance the rival
    forwards itself; it is read back and cancelled so it leaves nothing counted.
    """
    low, high = 0, 50  # hundreds of CNY: within the single limit
    transcript = []
    probe = 0
    while low < high:
        middle = (low + high + 1) // 2
        docs = _rival(f"PROBE-{buyer['id'][-4:]}-{probe}", middle * 100, buyer, "20240301100000")
        await hub.order_with_inventory(docs, as_=RIVAL_PLATFORM)
        await hub.receipt(docs, 120, "20240301110000", as_=RIVAL_PLATFORM)
        flagged = ANNUAL in await hub.flags(docs)
        transcript.append((middle * 100, flagged))
        await hub.cancel(docs, "20240301120000", as_=RIVAL_PLATFORM)
        if flagged:
            high = middle - 1
        else:
            low = middle
        probe += 1
    return transcript


async def test_a_rival_platform_cannot_binary_search_a_buyers_spending_from_its_risk_flags(
    retail_hub: RetailHub,
) -> None:
    # The buyer spent 22,000 on the victim platform: 4,000 of quota remain.
    await _victim_spends(retail_hub, BUYER, [4400] * 5)

    spent = await _binary_search(retail_hub, BUYER)
    nothing_spent = await _binary_search(retail_hub, THIRD_BUYER)

    # The rival sees exactly what it would see for a buyer who spent nothing elsewhere.
    assert spent == nothing_spent
    assert not any(flagged for _, flagged in spent)


async def test_fabricated_orders_of_a_rival_do_not_flag_the_victims_real_orders(
    retail_hub: RetailHub,
) -> None:
    first = (await _victim_spends(retail_hub, BUYER, [4000]))[0]
    # Five fabricated orders dated before the victim's, with receipts the rival forwards.
    for n in range(5):
        fake = _rival(f"FAKE-{n}", 5000, BUYER, f"202401{n + 1:02d}100000")
        await retail_hub.order_with_inventory(fake, as_=RIVAL_PLATFORM)
        await retail_hub.receipt(fake, 800, f"202401{n + 1:02d}110000", as_=RIVAL_PLATFORM)
    later = retail_order("V-LATER", 4000, buyer=BUYER, app_time="20240610100000")
    await retail_hub.order_with_inventory(later, as_=PLATFORM)
    await retail_hub.receipt(later, 800, "20240610110000", as_=AGENT)

    assert ANNUAL not in await retail_hub.flags(first)
    assert ANNUAL not in await retail_hub.flags(later)


async def test_no_flag_stays_behind_once_fabricated_orders_are_cancelled(
    retail_hub: RetailHub,
) -> None:
    victim = await _victim_spends(retail_hub, BUYER, [4000, 4000])
    fakes = [_rival(f"FAKE-{n}", 5000, BUYER, f"202401{n + 1:02d}100000") for n in range(5)]
    for fake in fakes:
        # tradeMode is optional on an order: the inventory's then says it is retail.
        del fake["order"]["tradeMode"]
    for n, fake in enumerate(fakes):
        await retail_hub.order_with_inventory(fake, as_=RIVAL_PLATFORM)
        await retail_hub.receipt(fake, 800, f"202401{n + 1:02d}110000", as_=RIVAL_PLATFORM)
    # The rival withdraws its inventories first, then its orders.
    for fake in fakes:
        await retail_hub.declare(
            "cbec.inventory",
            fake["inventory"] | {"appType": "3", "appTime": "20240701100000"},
            as_=RIVAL_PLATFORM,
        )
        await retail_hub.cancel(fake, "20240701100000", as_=RIVAL_PLATFORM)

    for docs in victim:
        assert ANNUAL not in await retail_hub.flags(docs)


async def test_a_customs_return_of_a_counted_order_clears_the_flag_it_caused(
    retail_hub: RetailHub,
) -> None:
    # Real orders on the rival platform, accepted by customs through the agent: they count
    # toward the buyer's year on every platform.
    real = [
        retail_order(f"R-REAL-{n}", 5000, platform=RIVAL_PLATFORM, app_time="20240110100000")
        for n in range(5)
    ]
    for docs in real:
        await retail_hub.order_with_inventory(docs, as_=RIVAL_PLATFORM, inventory_as=AGENT)
        await retail_hub.receipt(docs, 800, "20240110110000", as_=AGENT)
    victim = retail_order("V-OVER", 4000, app_time="20240510100000")
    await retail_hub.order_with_inventory(victim, as_=PLATFORM, inventory_as=AGENT)
    await retail_hub.receipt(victim, 120, "20240510110000", as_=AGENT)
    assert ANNUAL in await retail_hub.flags(victim)  # 25,000 + 4,000 > 26,000

    await retail_hub.receipt(real[0], 700, "20240520100000", as_=AGENT)  # returned

    assert ANNUAL not in await retail_hub.flags(victim)  # 20,000 + 4,000 fits
