"""Helpers shared by tests (import as `tests.support`)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

TEST_ISSUER = "http://hub.test"


@dataclass(frozen=True)
class RegisteredClient:
    """An OAuth2 client created for a test, with its one-time secret."""

    client_id: str
    client_secret: str


def _b64json(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def jwt_header(token: str) -> dict[str, Any]:
    """The unverified header of a JWT."""
    return _b64json(token.split(".")[0])


def jwt_claims(token: str) -> dict[str, Any]:
    """The unverified claims of a JWT."""
    return _b64json(token.split(".")[1])
