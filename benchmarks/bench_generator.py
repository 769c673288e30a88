"""Demo-data generator speed, beside a baseline that only builds the same number of dicts.

Run: .venv/bin/python benchmarks/bench_generator.py [orders]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.demo.generator import generate  # noqa: E402


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    started = time.process_time()
    data = generate(orders=orders, seed=3)
    hub_cpu = time.process_time() - started
    records = len(data.records)
    started = time.process_time()
    baseline = [{"index": i, "payload": {"orderNo": f"ORD-{i}"}} for i in range(records)]
    base_cpu = time.process_time() - started
    assert len(baseline) == records
    print(f"generator: {orders:,} orders, {records:,} records in {hub_cpu:.2f} s CPU")
    print(f"baseline (one small dict per record): {base_cpu:.3f} s CPU")
    print(f"ratio: {hub_cpu / max(base_cpu, 1e-9):.0f}x the baseline")


if __name__ == "__main__":
    main()
