"""Fixtures of the credit tests: parties in the graph, departments that rate them."""

from __future__ import annotations

import pytest

from tests.builders.credit import CreditDesk
from tests.builders.parties import Actors, hub_actors, import_set

__all__ = ["hub_actors"]


@pytest.fixture
async def desk(hub_actors: Actors) -> CreditDesk:
    """A matching import set declared (its parties are in the graph), and a credit desk."""
    await hub_actors.file_all(import_set())
    return CreditDesk(hub_actors)
