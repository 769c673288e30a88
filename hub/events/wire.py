"""An event as it leaves the hub outside GraphQL (webhooks, NATS): a JSON document."""

from __future__ import annotations

from typing import Any

from hub.events.models import Event


def document(event: Event) -> dict[str, Any]:
    """The event's wire form: references and what changed, never a payload."""
    record = (
        {"standard": event.standard_id, "key": event.record_key}
        if event.standard_id and event.record_key
        else None
    )
    return {
        "cursor": str(event.position),
        "kind": event.kind,
        "occurredAt": event.occurred_at.isoformat(),
        "enterpriseCodes": list(event.enterprise_codes),
        "record": record,
        "detail": dict(event.detail or {}),
    }
