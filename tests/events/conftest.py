"""The event log's tests run its sequencer and the webhook dispatcher, as `hub serve` does
(tests/conftest.py turns them off for everyone else)."""

from __future__ import annotations

import pytest

from hub.config import Settings
from tests.support import TEST_ISSUER


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A test hub with the event log's background workers running."""
    return Settings(database_url=database_url, issuer=TEST_ISSUER, env="test", log_sequencer=False)
