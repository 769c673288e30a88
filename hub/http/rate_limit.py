"""Rate limits per key (an OAuth client, an address), in Redis or in this process's memory.

The one mechanism every limited endpoint uses. Counting is done by the `limits` library's
moving window: at most `burst` requests in any window of `burst / rate` seconds, which
admits a burst after idleness and `rate` per second on average, like a token bucket of
size `burst`. With `HUB_REDIS_URL` the windows live in Redis, so every worker process and
every hub instance sharing that Redis counts against the same limit; without it they live
in this process.

Use:
    limiter = RateLimiter(storage=runtime.rate_limit_storage, rate=50, burst=100,
                          namespace="graphql")
    wait = await limiter.acquire(issuer, client_id)   # 0.0: go ahead; else seconds to wait
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

CODE = "RATE_LIMITED"
KEY_PREFIX = "hub-rate"

log = logging.getLogger("hub.rate_limit")

# A Redis outage is logged at most this often: each limited request would log otherwise.
_OUTAGE_LOG_EVERY_SECONDS = 30.0


def create_storage(redis_url: str | None) -> Storage:
    """Redis storage for `redis://` / `rediss://` URLs, process memory for None."""
    if not redis_url:
        return MemoryStorage()
    # limits names its asyncio Redis backend `async+redis://`.
    storage = storage_from_string(f"async+{redis_url}", key_prefix=KEY_PREFIX, wrap_exceptions=True)
    assert isinstance(storage, Storage)  # the async+ scheme gives the asyncio backend
    return storage


def window(*, rate: float, burst: int) -> RateLimitItem:
    """The moving window equivalent to a bucket of `burst` refilled at `rate` per second."""
    if rate <= 0:
        raise ValueError("rate must be positive; leave the limiter out to disable it")
    seconds = max(1, math.ceil(burst / rate))
    amount = max(1, min(burst, math.floor(rate * seconds)))
    return RateLimitItemPerSecond(amount, seconds)


class RateLimiter:
    """Allows about `burst` requests at once and `rate` per second on average, per key."""

    def __init__(self, *, storage: Storage, rate: float, burst: int, namespace: str) -> None:
        self.item = window(rate=rate, burst=burst)
        self.namespace = namespace
        self._strategy = MovingWindowRateLimiter(storage)
        self._last_outage_log = -math.inf

    async def acquire(self, *key: str) -> float:
        """Counts one request for `key`: 0.0 when allowed, else the seconds until one is."""
        try:
            if await self._strategy.hit(self.item, self.namespace, *key):
                return 0.0
            stats = await self._strategy.get_window_stats(self.item, self.namespace, *key)
        except Exception:
            # Fail open: a limit protects the hub from one noisy client; refusing every
            # client because the shared counter is unreachable would be the larger harm.
            self._log_outage()
            return 0.0
        return max(0.001, stats.reset_time - time.time())

    def _log_outage(self) -> None:
        now = time.monotonic()
        if now - self._last_outage_log >= _OUTAGE_LOG_EVERY_SECONDS:
            self._last_outage_log = now
            log.warning(
                "rate-limit storage unreachable; %s requests are not limited meanwhile",
                self.namespace,
                exc_info=True,
            )


def retry_after_header(wait_seconds: float) -> str:
    """`Retry-After` in whole seconds, never 0 (a client would retry at once and fail)."""
    return str(max(1, math.ceil(wait_seconds)))
