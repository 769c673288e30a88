"""Settings come from HUB_* variables and bad values fail loudly."""

from __future__ import annotations

import dataclasses

import pytest

from hub.config import Settings, SettingsError


def test_defaults_are_an_sqlite_file_in_the_working_directory() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./hub.db"
    assert settings.is_sqlite
    assert settings.issuer == "http://127.0.0.1:8000"
    assert not settings.is_production


def test_plain_postgresql_urls_get_the_async_driver() -> None:
    settings = Settings.from_env({"HUB_DATABASE_URL": "postgresql://hub@db/hub"})
    assert settings.database_url == "postgresql+asyncpg://hub@db/hub"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_DATABASE_URL": "mysql://x"}, "HUB_DATABASE_URL"),
        ({"HUB_TOKEN_TTL": "soon"}, "HUB_TOKEN_TTL"),
        ({"HUB_TOKEN_TTL": "0"}, "at least 1"),
        ({"HUB_ENV": "prod"}, "HUB_ENV"),
        ({"HUB_SIGNING_ALG": "HS256"}, "HUB_SIGNING_ALG"),
        ({"HUB_ISSUER": "hub.local"}, "HUB_ISSUER"),
        ({"HUB_EXTERNAL_ISSUER": "https://idp"}, "together"),
        ({"HUB_REQUIRE_HTTPS": "maybe"}, "HUB_REQUIRE_HTTPS"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_production_requires_https_at_the_token_endpoint_by_default() -> None:
    assert Settings.from_env({"HUB_ENV": "production"}).require_https
    assert not Settings.from_env({"HUB_ENV": "production", "HUB_REQUIRE_HTTPS": "0"}).require_https


async def test_an_app_freezes_its_start_up_objects_unless_told_not_to(settings: Settings) -> None:
    import gc

    from hub import garbage
    from hub.app import create_app

    assert Settings.from_env({}).gc_freeze is True
    assert Settings.from_env({"HUB_GC_FREEZE": "false"}).gc_freeze is False
    before = gc.get_threshold()
    frozen = create_app(dataclasses.replace(settings, gc_freeze=True))
    async with frozen.router.lifespan_context(frozen):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == garbage.YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    unfrozen = create_app(settings)  # the suite's settings: gc_freeze=False
    async with unfrozen.router.lifespan_context(unfrozen):
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
