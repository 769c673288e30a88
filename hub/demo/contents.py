"""What a demo data set contains, as the README's "Demo data" tables show it.

`contents_markdown(data)` counts the records of every message by the direction and trade
mode of their order, and the orders by the match status the generator planned for them
(`planned_status`: MISMATCH where a mismatch was planted, INCOMPLETE where a document was
held back, MATCHED otherwise). The README's tables are this function's output for the
default `hub demo` (`python -m hub.demo.contents` prints them; tests/demo checks the README
against it), so the figures are never typed by hand.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence

from hub.demo import generator
from hub.demo.generator import (
    ANY_MODE,
    DEFAULT_ORDERS,
    DEFAULT_SEED,
    MISMATCH_KINDS,
    AnomalyKind,
    DemoDataSet,
)

__all__ = ["COLUMNS", "contents_markdown", "planned_status"]

COLUMNS = (
    "import 9610",
    "import 1210",
    "export 9610",
    "export 9710",
    "export 9810",
    "export 1210",
)
OrderKey = tuple[str, str]

# (message, what it is, standard reference, direction of its columns; None: lists of
# several orders' parcels, counted in total only)
_ROWS: tuple[tuple[str, str, str, str | None], ...] = (
    ("311", "order", generator.ORDER, "import"),
    ("411", "payment", generator.PAYMENT, "import"),
    ("511", "waybill", generator.WAYBILL, "import"),
    ("513", "waybill status (S: signed for)", generator.LOGISTICS_STATUS, "import"),
    ("621", "inventory", generator.INVENTORY, "import"),
    ("622", "customs receipt", generator.INVENTORY_STATUS, "import"),
    ("816", "electronic tax bill", generator.TAX_BILL, "import"),
    ("623", "inventory cancellation", generator.INVENTORY_CANCEL, "import"),
    ("625", "return", generator.INVENTORY_RETURN, "import"),
    ("303", "order", generator.ORDER, "export"),
    ("403", "receipt of payment", generator.RECEIPT, "export"),
    ("505", "waybill", generator.WAYBILL, "export"),
    ("507", "arrival list", generator.ARRIVAL, None),
    ("509", "departure list", generator.DEPARTURE, None),
    ("603", "inventory", generator.INVENTORY, "export"),
    ("604", "customs receipt", generator.INVENTORY_STATUS, "export"),
    ("701", "summary application", generator.SUMMARY_APPLY, "export"),
    ("792", "summary result (entryId)", generator.SUMMARY_RESULT, "export"),
)
_STATUSES = ("MATCHED", "MISMATCH", "INCOMPLETE")


def planned_status(data: DemoDataSet) -> dict[OrderKey, str]:
    """The match status the generator planned for each order."""
    kinds: dict[OrderKey, set[AnomalyKind]] = {}
    for anomaly in data.anomalies:
        kinds.setdefault((anomaly.ebp_code, anomaly.order_no), set()).add(anomaly.kind)
    planned = {}
    for key in data.modes:
        planted = kinds.get(key, set())
        if planted & MISMATCH_KINDS:
            planned[key] = "MISMATCH"
        elif AnomalyKind.INCOMPLETE in planted:
            planned[key] = "INCOMPLETE"
        else:
            planned[key] = "MATCHED"
    return planned


def _column(direction: str, mode: str) -> str:
    return f"{'import' if direction == 'I' else 'export'} {mode}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def contents_markdown(data: DemoDataSet) -> str:
    """The README's two tables: records per message and mode, orders per planned status."""
    rows = []
    for code, what, reference, direction in _ROWS:
        cells = []
        for column in COLUMNS:
            if direction is None:
                cells.append("–")
            elif column.startswith(direction):
                cells.append(f"{data.contents.get((reference, column), 0):,}")
            else:
                cells.append("")
        if direction is None:
            total = data.contents.get((reference, ANY_MODE), 0)
        else:
            total = sum(
                data.contents.get((reference, c), 0) for c in COLUMNS if c.startswith(direction)
            )
        rows.append([code, what, f"`{reference}`", *cells, f"{total:,}"])
    filings = len(data.enterprises)
    rows.append(["–", "enterprise filing", f"`{generator.ENTERPRISE}`", *("–" * 6), f"{filings:,}"])
    records = len(data.records) + filings
    rows.append(["", "**all records**", "", *("" for _ in COLUMNS), f"**{records:,}**"])
    lines = _table(("message", "", "standard", *COLUMNS, "total"), rows)

    planned = planned_status(data)
    by_column: Counter[tuple[str, str]] = Counter(
        (_column(*data.modes[key]), status) for key, status in planned.items()
    )
    status_rows = []
    for status in _STATUSES:
        cells = [f"{by_column[(column, status)]:,}" for column in COLUMNS]
        total = sum(by_column[(column, status)] for column in COLUMNS)
        status_rows.append([status, *cells, f"{total:,}"])
    orders = [f"{sum(by_column[(c, s)] for s in _STATUSES):,}" for c in COLUMNS]
    status_rows.append(["**orders**", *orders, f"**{len(planned):,}**"])
    lines += ["", *_table(("orders by match status", *COLUMNS, "total"), status_rows)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Print the tables for `hub demo`'s data set (the README's are for the defaults)."""
    parser = argparse.ArgumentParser(
        prog="python -m hub.demo.contents", description="Print what a demo data set contains."
    )
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders to generate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the generator's seed")
    args = parser.parse_args(argv)
    print(contents_markdown(generator.generate(orders=args.orders, seed=args.seed)), end="")


if __name__ == "__main__":
    main()
