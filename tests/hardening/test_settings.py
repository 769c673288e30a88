"""The hardening settings come from HUB_* variables with sane defaults and loud failures."""

from __future__ import annotations

import pytest

from hub.config import Settings, SettingsError


def test_defaults_are_sane() -> None:
    settings = Settings.from_env({})
    assert settings.max_body_bytes == 4 * 1024 * 1024  # a full declareBatch fits
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (50.0, 100)
    assert settings.max_query_depth >= 10 and settings.max_query_cost >= 100_000


def test_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "HUB_MAX_QUERY_DEPTH": "7",
            "HUB_MAX_ALIASES": "5",
            "HUB_MAX_TOKENS": "900",
            "HUB_MAX_DIRECTIVES": "4",
            "HUB_MAX_ROOT_FIELDS": "6",
            "HUB_MAX_QUERY_COST": "1234",
            "HUB_MAX_BODY_BYTES": "65536",
        }
    )
    assert (
        settings.max_query_depth,
        settings.max_aliases,
        settings.max_tokens,
        settings.max_directives,
        settings.max_root_fields,
        settings.max_query_cost,
        settings.max_body_bytes,
    ) == (7, 5, 900, 4, 6, 1234, 65536)


@pytest.mark.parametrize(
    ("raw", "per_second", "burst"),
    [("50/s", 50.0, 100), ("600/min", 10.0, 20), ("7", 7.0, 14), ("0", 0.0, 1)],
)
def test_the_rate_limit_takes_a_unit_and_the_burst_defaults_to_two_seconds(
    raw: str, per_second: float, burst: int
) -> None:
    settings = Settings.from_env({"HUB_RATE_LIMIT": raw})
    assert settings.rate_limit_per_second == pytest.approx(per_second)
    assert settings.rate_limit_burst == burst


def test_an_explicit_burst_wins() -> None:
    settings = Settings.from_env({"HUB_RATE_LIMIT": "5/s", "HUB_RATE_LIMIT_BURST": "50"})
    assert settings.rate_limit_burst == 50


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("HUB_RATE_LIMIT", "fast"),
        ("HUB_RATE_LIMIT", "5/week"),
        ("HUB_RATE_LIMIT", "-1/s"),
        ("HUB_RATE_LIMIT_BURST", "0"),
        ("HUB_MAX_QUERY_DEPTH", "0"),
        ("HUB_MAX_QUERY_COST", "lots"),
        ("HUB_MAX_BODY_BYTES", "10"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw})
