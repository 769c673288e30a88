"""A token bucket per OAuth client, kept in this process's memory."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

CODE = "RATE_LIMITED"

# Buckets of clients that have been idle long enough to be full again carry no
# information; dropping them keeps memory bounded by the number of active clients.
_SWEEP_EVERY = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Allows `burst` requests at once and `rate` per second on average, per key."""

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive; leave the limiter out to disable it")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def acquire(self, key: Hashable) -> float:
        """Takes one token for `key`: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _SWEEP_EVERY:
                self._sweep(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.burst, updated=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _sweep(self, now: float) -> None:
        full_after = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]


def retry_after_header(wait_seconds: float) -> str:
    """`Retry-After` in whole seconds, never 0 (a client would retry at once and fail)."""
    return str(max(1, math.ceil(wait_seconds)))
