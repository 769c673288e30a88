"""The compiled execution path of the trade graph's read queries.

strawberry resolves a query field by field: graphql-core's `execute_field` and the
`guarded` category check run once per field per row (about 5,000 times for the
department query `orders(first: 100)`). This package takes the supported subset of
documents (`document.py`), decides each field's category check and mask once per
(selection, grant shape) (`plan.py`), and walks the rows with the plan, writing plain
values that orjson serialises (`execute.py`). The rows, the row rules, the grants and
the access events come from the very functions strawberry's resolvers call (the root
resolvers and loaders of `hub.graphql.trade`), so both paths read the same SQL and
record the same events.

A field the caller's grant forbids is null with graphql-core's FORBIDDEN error, in
graphql-core's order. Anything else falls back to strawberry unchanged: a document
outside the subset, one that does not validate, variables that do not coerce, a root
argument the resolver refuses, forbidden fields inside two kinds of linked documents, a
database error. A fallback is decided
before the response leaves the process, and the compiled attempt's access record is
discarded with its context, so nothing is recorded twice.
"""
