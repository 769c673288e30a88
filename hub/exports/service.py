"""Exporting orders as a client reads them: the graph's `orders` query, page by page.

Each page runs through the same schema, policy and masking as a GraphQL request of that
client (fields outside its categories come out null, personal fields masked), so an export
can never show more than the graph. Memory stays constant: one page is held at a time (its
rows are written out before the next is read), and the access record keeps only
per-enterprise counts. At the end one access event names every enterprise included. An
export resumes from the cursor it reports (`after`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request

from hub.access import audit_log
from hub.access.audit import MAX_RECORDS_PER_EVENT, AccessRecorder, SubjectPart
from hub.auth.principal import Principal
from hub.db import unit_of_work
from hub.exports.writers import Writer
from hub.runtime import Runtime

PAGE = 500
# The order fields an export carries, in this order (the CSV header and Parquet schema).
ORDER_FIELDS = (
    "ebpCode",
    "orderNo",
    "ebcCode",
    "payCode",
    "orderType",
    "direction",
    "tradeMode",
    "currency",
    "goodsValue",
    "freight",
    "acturalPaid",
    "taxTotal",
    "appTime",
    "status",
    "version",
    "customsStatus",
    "buyerName",
    "buyerIdNumber",
)
_QUERY = (
    "query Export($first: Int!, $after: String) { orders(first: $first, after: $after) {"
    " edges { cursor node { " + " ".join(ORDER_FIELDS) + " matching { status } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
_OPERATION = audit_log.describe_operation(query=_QUERY, operation_name="Export")


class ExportFailed(Exception):
    """The export stopped: an error that is not a refused category."""


@dataclass
class ExportResult:
    """What an export wrote and where it can resume."""

    rows: int = 0
    cursor: str | None = None
    enterprises: set[str] = field(default_factory=set)


def _request() -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/export",
        "headers": [],
        "query_string": b"",
    }
    return Request(scope)


def _merge(total: AccessRecorder, page: AccessRecorder) -> None:
    """Adds one page's access record to the export's, keeping counts, not every record."""
    total.returned_data = total.returned_data or page.touched
    total.enterprises |= page.enterprises
    total.consent_ids |= page.consent_ids
    total.record_count += page.record_count
    room = MAX_RECORDS_PER_EVENT - len(total.records)
    total.records.extend(page.records[: max(0, room)])
    for code, part in page.subjects.items():
        merged = total.subjects.setdefault(code, SubjectPart())
        merged.record_count += part.record_count
        room = MAX_RECORDS_PER_EVENT - len(merged.records)
        merged.records.extend(part.records[: max(0, room)])


def _flatten(node: dict[str, Any]) -> dict[str, Any]:
    row = {name: node.get(name) for name in ORDER_FIELDS}
    matching = node.get("matching")
    row["matchStatus"] = matching.get("status") if isinstance(matching, dict) else None
    return row


def _unexpected(errors: list[GraphQLError]) -> list[GraphQLError]:
    # A category the client may not read resolves to null with FORBIDDEN: expected here.
    return [e for e in errors if (e.extensions or {}).get("code") != "FORBIDDEN"]


async def export_orders(
    *,
    runtime: Runtime,
    schema: Any,
    principal: Principal,
    writer: Writer,
    after: str | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Writes every order the principal may read (after the cursor) through `writer`."""
    from hub.graphql.context import Context

    result = ExportResult(cursor=after)
    total = AccessRecorder()
    started = datetime.now(UTC)
    try:
        while limit is None or result.rows < limit:
            context = Context(request=_request(), principal=principal, runtime=runtime)
            size = PAGE if limit is None else min(PAGE, limit - result.rows)
            try:
                executed = await schema.execute(
                    _QUERY,
                    variable_values={"first": size, "after": result.cursor},
                    context_value=context,
                    operation_name="Export",
                )
            finally:
                await context.close()
            if executed.errors and _unexpected(executed.errors):
                raise ExportFailed("; ".join(e.message for e in _unexpected(executed.errors)))
            page = executed.data["orders"]
            writer.write([_flatten(edge["node"]) for edge in page["edges"]])
            _merge(total, context.audit)
            result.rows += len(page["edges"])
            if page["edges"]:
                result.cursor = page["edges"][-1]["cursor"]
            if progress is not None:
                progress(result.rows)
            if not page["pageInfo"]["hasNextPage"]:
                break
    finally:
        result.enterprises = set(total.enterprises)
        if total.touched:
            event = audit_log.build_event(
                principal=principal,
                recorder=total,
                operation=_OPERATION,
                purpose="export",
                occurred_at=started,
            )
            async with unit_of_work(runtime.session_factory) as session:
                await audit_log.record(session=session, event=event)
    return result
