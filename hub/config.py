"""Settings read from HUB_* environment variables, failing loudly on bad values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SQLITE_FILE = "hub.db"


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
    extra: Mapping[str, str] = field(default_factory=dict)

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
        return cls(
            database_url=database_url,
            issuer=issuer,
            audience=env.get("HUB_AUDIENCE", cls.audience),
            token_ttl_seconds=ttl,
            env=hub_env,
            external=external,
            signing_alg=alg,
            log_sql=_flag(env, "HUB_LOG_SQL", default=False),
            require_https=_flag(env, "HUB_REQUIRE_HTTPS", default=hub_env == "production"),
        )


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


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected true or false")


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
