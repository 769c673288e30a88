"""Read-only aggregates over the trade graph, computed in SQL (the CQRS read side)."""
