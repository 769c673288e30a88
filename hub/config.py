"""Settings read from HUB_* environment variables, failing loudly on bad values."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.trade.rules_config import DEFAULT_RULES, RuleConfig, RuleConfigError, parse_overrides

DEFAULT_SQLITE_FILE = "hub.db"
MIB = 1024 * 1024

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128"


class SettingsError(ValueError):
    """A HUB_* variable has a value the hub cannot use."""


@dataclass(frozen=True)
class ExternalIssuer:
    """An external identity provider whose tokens the hub trusts."""

    issuer: str
    jwks_url: str
    audience: str


@dataclass(frozen=True)
class Settings:
    """Everything the hub reads from its environment."""

    database_url: str = f"sqlite+aiosqlite:///./{DEFAULT_SQLITE_FILE}"
    issuer: str = "http://127.0.0.1:8000"
    audience: str = "hub"
    token_ttl_seconds: int = 3600
    env: str = "development"
    external: ExternalIssuer | None = None
    signing_alg: str = "ES256"
    log_sql: bool = False
    require_https: bool = False
    metrics_allow: tuple[IPNetwork, ...] = field(
        default_factory=lambda: _networks("HUB_METRICS_ALLOW", DEFAULT_METRICS_ALLOW)
    )
    extra: Mapping[str, str] = field(default_factory=dict)
    # Query limits: each refuses a document before anything executes (see README,
    # "Limits and HTTP behaviour"). Defaults leave room for every documented query.
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 10_000
    max_directives: int = 50
    max_root_fields: int = 20
    # 200,000: 100 enterprises with five 60-item connections each (~115,000) fit.
    max_query_cost: int = 200_000
    # 4 MiB: a declareBatch of 1,000 typical orders is about 1.8 MB and must fit.
    max_body_bytes: int = 4 * MIB
    # POST /messages: a CEB message of 100 records (the official 621 sample is 38 KB for 10).
    # HUB_MAX_BODY_BYTES still applies first: the smaller of the two wins.
    max_message_bytes: int = 4 * MIB
    # Token bucket per OAuth client: refill rate in requests per second (0 disables)
    # and how many requests a client may send at once after being idle.
    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100
    # The OAuth endpoints (token, revoke, introspect) check client secrets: limited per
    # claimed client id and per remote address (0 disables), so neither one client id nor
    # one address can make the hub hash secrets without end.
    token_rate_limit_per_second: float = 5.0
    token_rate_limit_burst: int = 20
    token_address_rate_limit_per_second: float = 20.0
    token_address_rate_limit_burst: int = 100
    # Peers whose X-Forwarded-For/-Proto count (the proxies in front); empty: nobody's.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Trade rules (HUB_RULES overrides single fields; docs/rules.md lists them).
    rules: RuleConfig = DEFAULT_RULES
    # Threads that validate declarations off the event loop (CPU-heavy for invalid batches).
    validation_threads: int = 2
    # Shared rate-limit state: with a Redis URL every worker and instance counts against
    # the same limits; None keeps them in each process's memory.
    redis_url: str | None = None
    # "optional": a request sends a document's text or a registered `documentId`;
    # "required": only registered documents run (production allow-listing).
    trusted_documents: str = "optional"
    # Pooled database connections per process (pool_size; the same again may
    # overflow) and how long a request waits for one.
    # A request holds at most one at a time (see hub/graphql/endpoint.py).
    db_pool_size: int = 10
    db_pool_timeout: float = 30.0
    # No request outlives this (seconds): the HTTP deadline, PostgreSQL's statement_timeout
    # and the bound on waiting for a pooled connection (hub/http/unavailable.py, hub/db.py).
    request_timeout: float = 30.0
    # PostgreSQL streaming replicas that serve department and bank reads (hub/replicas.py).
    database_replica_urls: tuple[str, ...] = ()
    # Statistics cells of fewer orders are suppressed for every reader but customs
    # (hub/stats/suppression.py); 1 turns suppression off.
    stats_min_group: int = 5
    # The verifiable log (README, "Verifiable log"): origin line of its checkpoints (default:
    # the issuer's host and path + /log), how often and how many entries the sequencer
    # integrates, whether this process runs a sequencer, and the promised merge delay.
    log_origin: str | None = None
    log_interval_ms: int = 200
    log_batch: int = 1000
    log_sequencer: bool = True
    log_max_merge_delay_seconds: int = 60
    # Witnesses (README, "Verifiable log"): `K of NAME,...` cosignatures make a checkpoint
    # witnessed (empty: no policy). Checkpoints older than the grace period are thinned to
    # the first of each keep-period, the newest and every cosigned one kept.
    log_witness_policy: str = ""
    log_checkpoint_grace_seconds: int = 600
    log_checkpoint_keep_seconds: int = 60
    # The event log (README, "Events"): how often the sequencer numbers new events, how
    # many at a time, whether this process runs one, how long events are kept, and how
    # often a subscriber polls for events sequenced by another process.
    events_interval_ms: int = 100
    events_batch: int = 1000
    events_sequencer: bool = True
    events_retention_days: int = 30
    events_poll_ms: int = 500
    # Webhooks: hosts the hub may call in production (exact or `*.example.com`), how many
    # attempts before a delivery is dead-lettered, the first retry delay (doubling each
    # time), the request timeout, and how often this process's dispatcher looks for work.
    webhook_allow: tuple[str, ...] = ()
    webhook_max_attempts: int = 8
    webhook_retry_base_ms: int = 1000
    webhook_timeout_seconds: int = 10
    webhook_interval_ms: int = 200
    webhook_dispatcher: bool = True
    # The compiled execution path of the trade graph's read queries (hub/graphql/compiled):
    # the same answers as strawberry (tests/compiled/test_differential.py), faster; off
    # runs every request through strawberry.
    compiled_execution: bool = True
    # At start-up, collect once and freeze what is alive, so the collector never walks the
    # schema, mappers and standards again (hub/garbage.py). Off only where one process
    # starts many apps (the test suite): each start would collect the whole process.
    gc_freeze: bool = True

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        """True when HUB_ENV=production (no introspection, no GraphiQL)."""
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads settings from the environment (or a given mapping)."""
        env = os.environ if environ is None else environ
        database_url = env.get("HUB_DATABASE_URL") or cls.database_url
        database_url = _normalise_database_url(database_url)
        ttl = _int(env, "HUB_TOKEN_TTL", cls.token_ttl_seconds, minimum=1)
        hub_env = env.get("HUB_ENV", cls.env)
        if hub_env not in ("development", "production", "test"):
            raise SettingsError(
                f"HUB_ENV={hub_env!r}: expected one of development, production, test"
            )
        alg = env.get("HUB_SIGNING_ALG", cls.signing_alg)
        if alg not in ("ES256", "RS256"):
            raise SettingsError(f"HUB_SIGNING_ALG={alg!r}: expected ES256 or RS256")
        issuer = env.get("HUB_ISSUER", cls.issuer).rstrip("/")
        if not issuer.startswith(("http://", "https://")):
            raise SettingsError(f"HUB_ISSUER={issuer!r}: must be an http(s) URL")
        external = None
        ext_issuer = env.get("HUB_EXTERNAL_ISSUER")
        ext_jwks = env.get("HUB_EXTERNAL_JWKS_URL")
        if bool(ext_issuer) != bool(ext_jwks):
            raise SettingsError(
                "HUB_EXTERNAL_ISSUER and HUB_EXTERNAL_JWKS_URL must be set together"
            )
        if ext_issuer and ext_jwks:
            external = ExternalIssuer(
                issuer=ext_issuer,
                jwks_url=ext_jwks,
                audience=env.get("HUB_EXTERNAL_AUDIENCE", env.get("HUB_AUDIENCE", "hub")),
            )
        rate = _rate(env, "HUB_RATE_LIMIT", cls.rate_limit_per_second)
        token_rate = _rate(env, "HUB_TOKEN_RATE_LIMIT", cls.token_rate_limit_per_second)
        address_rate = _rate(
            env, "HUB_TOKEN_ADDRESS_RATE_LIMIT", cls.token_address_rate_limit_per_second
        )
        try:
            rules = parse_overrides(env.get("HUB_RULES"))
        except RuleConfigError as error:
            raise SettingsError(f"HUB_RULES: {error}") from None
        return cls(
            database_url=database_url,
            issuer=issuer,
            audience=env.get("HUB_AUDIENCE", cls.audience),
            token_ttl_seconds=ttl,
            env=hub_env,
            external=external,
            signing_alg=alg,
            log_sql=_flag(env, "HUB_LOG_SQL", default=False),
            compiled_execution=_flag(env, "HUB_COMPILED_EXECUTION", default=cls.compiled_execution),
            gc_freeze=_flag(env, "HUB_GC_FREEZE", default=cls.gc_freeze),
            require_https=_flag(env, "HUB_REQUIRE_HTTPS", default=hub_env == "production"),
            metrics_allow=_networks(
                "HUB_METRICS_ALLOW", env.get("HUB_METRICS_ALLOW", DEFAULT_METRICS_ALLOW)
            ),
            db_pool_size=_int(env, "HUB_DB_POOL_SIZE", cls.db_pool_size, minimum=1),
            db_pool_timeout=float(
                _int(env, "HUB_DB_POOL_TIMEOUT", int(cls.db_pool_timeout), minimum=1)
            ),
            database_replica_urls=_replica_urls(env, primary=database_url),
            request_timeout=float(
                _int(env, "HUB_REQUEST_TIMEOUT", int(cls.request_timeout), minimum=1)
            ),
            max_query_depth=_int(env, "HUB_MAX_QUERY_DEPTH", cls.max_query_depth, minimum=1),
            max_aliases=_int(env, "HUB_MAX_ALIASES", cls.max_aliases, minimum=0),
            max_tokens=_int(env, "HUB_MAX_TOKENS", cls.max_tokens, minimum=1),
            max_directives=_int(env, "HUB_MAX_DIRECTIVES", cls.max_directives, minimum=0),
            max_root_fields=_int(env, "HUB_MAX_ROOT_FIELDS", cls.max_root_fields, minimum=1),
            max_query_cost=_int(env, "HUB_MAX_QUERY_COST", cls.max_query_cost, minimum=1),
            max_body_bytes=_int(env, "HUB_MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024),
            max_message_bytes=_int(
                env, "HUB_MAX_MESSAGE_BYTES", cls.max_message_bytes, minimum=1024
            ),
            rate_limit_per_second=rate,
            rate_limit_burst=_int(env, "HUB_RATE_LIMIT_BURST", _default_burst(rate), minimum=1),
            token_rate_limit_per_second=token_rate,
            token_rate_limit_burst=_int(
                env, "HUB_TOKEN_RATE_LIMIT_BURST", max(1, math.ceil(4 * token_rate)), minimum=1
            ),
            token_address_rate_limit_per_second=address_rate,
            token_address_rate_limit_burst=_int(
                env,
                "HUB_TOKEN_ADDRESS_RATE_LIMIT_BURST",
                max(1, math.ceil(5 * address_rate)),
                minimum=1,
            ),
            trusted_proxies=_networks("HUB_TRUSTED_PROXIES", env.get("HUB_TRUSTED_PROXIES", "")),
            rules=rules,
            validation_threads=_int(
                env, "HUB_VALIDATION_THREADS", cls.validation_threads, minimum=1
            ),
            redis_url=_redis_url(env, "HUB_REDIS_URL"),
            trusted_documents=_choice(
                env, "HUB_TRUSTED_DOCUMENTS", cls.trusted_documents, ("optional", "required")
            ),
            stats_min_group=_int(env, "HUB_STATS_MIN_GROUP", cls.stats_min_group, minimum=1),
            log_origin=_log_origin(env.get("HUB_LOG_ORIGIN")),
            log_interval_ms=_int(env, "HUB_LOG_INTERVAL_MS", cls.log_interval_ms, minimum=1),
            log_batch=_int(env, "HUB_LOG_BATCH", cls.log_batch, minimum=1),
            log_sequencer=_flag(env, "HUB_LOG_SEQUENCER", default=True),
            log_max_merge_delay_seconds=_int(
                env, "HUB_LOG_MAX_MERGE_DELAY", cls.log_max_merge_delay_seconds, minimum=1
            ),
            log_witness_policy=_witness_policy(env.get("HUB_LOG_WITNESS_POLICY", "")),
            log_checkpoint_grace_seconds=_int(
                env, "HUB_LOG_CHECKPOINT_GRACE", cls.log_checkpoint_grace_seconds, minimum=0
            ),
            log_checkpoint_keep_seconds=_int(
                env, "HUB_LOG_CHECKPOINT_KEEP", cls.log_checkpoint_keep_seconds, minimum=1
            ),
            events_interval_ms=_int(
                env, "HUB_EVENTS_INTERVAL_MS", cls.events_interval_ms, minimum=1
            ),
            events_batch=_int(env, "HUB_EVENTS_BATCH", cls.events_batch, minimum=1),
            events_sequencer=_flag(env, "HUB_EVENTS_SEQUENCER", default=True),
            events_retention_days=_int(
                env, "HUB_EVENTS_RETENTION_DAYS", cls.events_retention_days, minimum=1
            ),
            events_poll_ms=_int(env, "HUB_EVENTS_POLL_MS", cls.events_poll_ms, minimum=10),
            webhook_allow=tuple(
                h.strip().lower() for h in env.get("HUB_WEBHOOK_ALLOW", "").split(",") if h.strip()
            ),
            webhook_max_attempts=_int(
                env, "HUB_WEBHOOK_MAX_ATTEMPTS", cls.webhook_max_attempts, minimum=1
            ),
            webhook_retry_base_ms=_int(
                env, "HUB_WEBHOOK_RETRY_BASE_MS", cls.webhook_retry_base_ms, minimum=1
            ),
            webhook_timeout_seconds=_int(
                env, "HUB_WEBHOOK_TIMEOUT", cls.webhook_timeout_seconds, minimum=1
            ),
            webhook_interval_ms=_int(
                env, "HUB_WEBHOOK_INTERVAL_MS", cls.webhook_interval_ms, minimum=1
            ),
            webhook_dispatcher=_flag(env, "HUB_WEBHOOK_DISPATCHER", default=True),
        )


def _witness_policy(raw: str) -> str:
    from hub.log.policy import WitnessPolicy

    if not raw.strip():
        return ""
    try:
        return WitnessPolicy.parse(raw).text()
    except ValueError as exc:
        raise SettingsError(f"HUB_LOG_WITNESS_POLICY={exc}") from exc


def _log_origin(raw: str | None) -> str | None:
    # The origin is also the log key's name: a signed-note key name has no spaces or "+".
    if raw is None or raw == "":
        return None
    if any(c.isspace() or c == "+" for c in raw):
        raise SettingsError(f"HUB_LOG_ORIGIN={raw!r}: no spaces or '+' (a signed-note key name)")
    return raw


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected an integer") from exc
    if value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    return value


_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    """A request rate as `N`, `N/s`, `N/min` or `N/h`, in requests per second; 0 disables."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    count, _, unit = raw.partition("/")
    try:
        value = float(count)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: expected a rate such as 50/s or 600/min") from exc
    seconds = _RATE_UNITS.get(unit.strip() or "s")
    if seconds is None or value < 0 or value != value or value == float("inf"):
        raise SettingsError(f"{name}={raw!r}: expected a rate such as 50/s or 600/min (0: off)")
    return value / seconds


def _default_burst(rate_per_second: float) -> int:
    # Two seconds' worth of requests: a client may catch up after a short pause.
    return max(1, math.ceil(2 * rate_per_second))


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise SettingsError(f"{name}={raw!r}: expected one of {', '.join(allowed)}")
    return raw


def _redis_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://")):
        raise SettingsError(f"{name}={raw!r}: expected redis://HOST:PORT/DB or rediss://... (TLS)")
    return raw


def _networks(name: str, raw: str) -> tuple[IPNetwork, ...]:
    """Comma-separated CIDRs (or bare addresses); empty means nobody."""
    networks = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"{name}={raw!r}: {part!r} is not an address or CIDR (e.g. 10.0.0.0/8)"
            ) from exc
    return tuple(networks)


def _replica_urls(env: Mapping[str, str], *, primary: str) -> tuple[str, ...]:
    raw = env.get("HUB_DATABASE_REPLICA_URLS", "")
    urls = tuple(_normalise_database_url(u.strip()) for u in raw.split(",") if u.strip())
    if urls and not (
        primary.startswith("postgresql") and all(u.startswith("postgresql") for u in urls)
    ):
        raise SettingsError(
            "HUB_DATABASE_REPLICA_URLS: replicas are PostgreSQL streaming replicas of a "
            "PostgreSQL HUB_DATABASE_URL (postgresql+asyncpg://USER@HOST/DB, comma-separated)"
        )
    return urls


def _normalise_database_url(url: str) -> str:
    # People paste plain driver URLs; the hub is async-only, so pick the async driver.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            f"HUB_DATABASE_URL={url!r}: expected sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST/DB"
        )
    return url


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for memory/PostgreSQL."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:":
        return None
    return Path(path)
