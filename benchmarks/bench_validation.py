"""Validation throughput of the shipped cbec.order standard on one core.

Run: .venv/bin/python benchmarks/bench_validation.py [seconds-per-row]
Prints records/s for the compiled validator, the bare jsonschema_rs call and the reference
jsonschema library, and errors/s for an invalid record through `.errors()`.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the tests package

import jsonschema_rs  # noqa: E402

from tests.standards.samples import sample, shipped_resources, shipped_validator  # noqa: E402

TARGET_VALID_PER_SECOND = 50_000


def _rate(call: Callable[[], object], *, seconds: float) -> float:
    """Call repeatedly for about `seconds` and return calls per second."""
    batch, done = 1, 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(batch):
            call()
        done += batch
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)
        batch = min(batch * 2, 4096)


def main(*, seconds: float) -> None:
    """Measure and print the table."""
    validator = shipped_validator("cbec.order")
    record = sample("cbec.order", "import-9610")  # 3-line 9610 import order
    broken = copy.deepcopy(record)
    broken["ebpCode"] = broken["ebpCode"][:17] + "0"
    broken["items"][1]["gnum"] = 0
    del broken["buyerIdNumber"]
    assert validator.is_valid(record) and not validator.is_valid(broken)
    issues = validator.errors(broken)

    rust = validator._rust  # the bare jsonschema_rs validator, for the overhead comparison
    python = validator._python
    # Same schema with format assertions off: shows what the Python format callbacks cost.
    registry = jsonschema_rs.Registry(list(shipped_resources().items()))
    no_formats = jsonschema_rs.validator_for(validator.schema, registry=registry)
    rows: list[tuple[str, str, Callable[[], object]]] = [
        ("CompiledValidator.is_valid, valid", "records/s", lambda: validator.is_valid(record)),
        ("bare jsonschema_rs is_valid, valid", "records/s", lambda: rust.is_valid(record)),
        ("  same, custom formats off", "records/s", lambda: no_formats.is_valid(record)),
        ("CompiledValidator.is_valid, invalid", "records/s", lambda: validator.is_valid(broken)),
        ("jsonschema (reference) is_valid, valid", "records/s", lambda: python.is_valid(record)),
        ("CompiledValidator.errors, invalid", "records/s", lambda: validator.errors(broken)),
    ]
    print(f"cbec.order 1.0.0, 3-line import order, one core, {seconds:.1f}s per row\n")
    print(f"{'path':<40} {'rate':>12}  unit")
    print("-" * 62)
    results: dict[str, float] = {}
    for label, unit, call in rows:
        results[label] = rate = _rate(call, seconds=seconds)
        print(f"{label:<40} {rate:>12,.0f}  {unit}")
    errors_rate = results[rows[-1][0]] * len(issues)
    print(f"{f'  = {len(issues)} issues per record':<40} {errors_rate:>12,.0f}  errors/s")
    valid_rate = results[rows[0][0]]
    verdict = "meets" if valid_rate >= TARGET_VALID_PER_SECOND else "MISSES"
    print(f"\nis_valid {verdict} the target of {TARGET_VALID_PER_SECOND:,} valid records/s")
    print("issues reported for the invalid record:")
    for issue in issues:
        print(f"  {issue.path}: [{issue.keyword}] {issue.message}")


if __name__ == "__main__":
    main(seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
