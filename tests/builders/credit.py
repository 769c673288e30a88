"""Departments that rate and handle alerts, and the GraphQL documents of credit and risk.

`CreditDesk` wraps `Actors` (tests/builders/parties.py): tokens for each department with
`credit:write`, a read-only one, banks and enterprises, and one call per operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.access.models import AccessEvent
from tests.builders.parties import Actors

WRITE = {
    "customs": "customs:read credit:write",
    "tax": "tax:read credit:write",
    "forex": "forex:read credit:write",
    "market": "market:read credit:write",
}
RECORD_RATING = """
mutation($input: RecordRatingInput!) {
  recordRating(input: $input) {
    rating { id department scale value ratedOn validUntil basis dishonest }
    errors { code path message }
  }
}"""
ALERT_FIELDS = """
  id rule ruleId ruleVersion severity enterprise department category summary evidence
  status outcome raisedAt
  steps { fromStatus toStatus outcome reason department actor at }
"""
ALERTS = f"""
query($filter: AlertFilter, $first: Int, $after: String) {{
  alerts(filter: $filter, first: $first, after: $after) {{
    edges {{ node {{ {ALERT_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
ACKNOWLEDGE = f"""
mutation($id: ID!, $reason: String!) {{
  acknowledgeAlert(id: $id, reason: $reason) {{
    alert {{ {ALERT_FIELDS} }} errors {{ code path message }}
  }}
}}"""
DISPOSE = f"""
mutation($id: ID!, $outcome: AlertOutcome!, $reason: String!) {{
  disposeAlert(id: $id, outcome: $outcome, reason: $reason) {{
    alert {{ {ALERT_FIELDS} }} errors {{ code path message }}
  }}
}}"""
CREDIT = """
query($code: String!) {
  enterprise(code: $code) {
    code
    credit {
      declaredClass
      ratings { id department scale value ratedOn validUntil basis dishonest }
    }
  }
}"""


@dataclass
class CreditDesk:
    """Runs credit and risk operations as departments, enterprises and banks."""

    actors: Actors

    async def record(
        self, department: str, enterprise: str, value: str, **extra: Any
    ) -> dict[str, Any]:
        """Records a rating as the department (with credit:write); returns the payload."""
        rating = {
            "enterprise": enterprise,
            "value": value,
            "ratedOn": "2025-06-01",
            "basis": f"{department} decision 2025-{value}",
            **extra,
        }
        body = await self.actors.query(
            RECORD_RATING, scopes=WRITE[department], variables={"input": rating}
        )
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["recordRating"]
        return result

    async def alerts(
        self, *, scopes: str | None = None, as_: str | None = None, **filter: Any
    ) -> list[dict[str, Any]]:
        """Every alert the caller sees (matching the filter), newest first."""
        body = await self.actors.query(
            ALERTS, scopes=scopes, as_=as_, variables={"filter": filter or None, "first": 500}
        )
        assert "errors" not in body, body
        return [e["node"] for e in body["data"]["alerts"]["edges"]]

    async def step(
        self, department: str, alert_id: str, *, outcome: str | None = None, reason: str = "seen"
    ) -> dict[str, Any]:
        """Acknowledges (no outcome) or disposes an alert as the department."""
        document, variables = (
            (ACKNOWLEDGE, {"id": alert_id, "reason": reason})
            if outcome is None
            else (DISPOSE, {"id": alert_id, "outcome": outcome, "reason": reason})
        )
        body = await self.actors.query(document, scopes=WRITE[department], variables=variables)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][
            "acknowledgeAlert" if outcome is None else "disposeAlert"
        ]
        return result

    async def credit(
        self, code: str, *, scopes: str | None = None, as_: str | None = None
    ) -> dict[str, Any]:
        """`enterprise(code) { credit { … } }` as the caller: the whole body."""
        return await self.actors.query(CREDIT, scopes=scopes, as_=as_, variables={"code": code})

    async def access_events(self, record: str) -> list[AccessEvent]:
        """The access events naming this record, oldest first."""
        factory = self.actors.app.state.runtime.session_factory
        async with factory() as session:
            rows = list(await session.scalars(select(AccessEvent).order_by(AccessEvent.id)))
        return [r for r in rows if record in (r.records or [])]


GRANT_CONSENT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) { consent { id } errors { code path message } }
}"""
