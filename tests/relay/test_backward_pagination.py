"""Paging backward (last/before) walks the same keyset as paging forward: a random walk of
forward and backward steps of random sizes over a seeded data set sees every page exactly
as the slice of the full list at that place, so no edge is skipped or repeated."""

from __future__ import annotations

import random
from typing import Any

from tests.views.conftest import Demo, Gql, demo

__all__ = ["demo"]

# Each list: (query with %s for the arguments, path to the connection, reader).
LISTS: list[tuple[str, tuple[str, ...], str]] = [
    ("{ orders(%s) { edges { cursor node { orderNo } } %s } }", ("orders",), "customs:read"),
    (
        "{ enterprises(%s) { edges { cursor node { code } } %s } }",
        ("enterprises",),
        "customs:read",
    ),
    (
        "{ declarations(%s) { edges { cursor node { id } } %s } }",
        ("declarations",),
        "customs:read",
    ),
]
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def _connection(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    assert "errors" not in body, body
    value: Any = body["data"]
    for key in path:
        value = value[key]
    result: dict[str, Any] = value
    return result


async def _page(gql: Gql, token: str, query: str, path: tuple[str, ...], **args: Any) -> Any:
    call = ", ".join(f"{k}: {v if isinstance(v, int) else repr(v).replace(chr(39), chr(34))}"
                     for k, v in args.items())  # fmt: skip
    return _connection(await gql(query % (call, PAGE_INFO), token=token), path)


async def test_random_walks_back_and_forth_see_every_edge_once(demo: Demo, gql: Gql) -> None:
    rng = random.Random(15)
    for query, path, scopes in LISTS:
        token = await demo.token(scopes=scopes)
        full = (await _page(gql, token, query, path, first=500))["edges"]
        cursors = [e["cursor"] for e in full]
        assert len(cursors) > 10
        # Whole-list walks in both directions, about six pages each (the last one short).
        for size in (len(full) // 6 + 1,):
            seen, after = [], None
            while True:
                args = {"first": size} | ({"after": after} if after else {})
                page = await _page(gql, token, query, path, **args)
                seen += page["edges"]
                assert page["pageInfo"]["hasPreviousPage"] is False
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
            assert seen == full
            seen, before = [], None
            while True:
                args = {"last": size} | ({"before": before} if before else {})
                page = await _page(gql, token, query, path, **args)
                seen = page["edges"] + seen
                assert page["pageInfo"]["hasNextPage"] is False
                if not page["pageInfo"]["hasPreviousPage"]:
                    break
                before = page["pageInfo"]["startCursor"]
            assert seen == full
        # A random walk: forward from the end of the last page, backward from its start.
        start, end = 0, 0  # the current page is full[start:end]
        for _ in range(20):
            size = rng.randint(1, 6)
            if rng.random() < 0.5 and end < len(full):
                args: dict[str, Any] = {"first": size}
                if end:
                    args["after"] = cursors[end - 1]
                start, end = end, min(len(full), end + size)
                more = end < len(full)
            elif start > 0:
                args = {"last": size, "before": cursors[start]}
                start, end = max(0, start - size), start
                more = start > 0
            else:
                continue
            page = await _page(gql, token, query, path, **args)
            assert page["edges"] == full[start:end], (path, args)
            info = page["pageInfo"]
            assert info["startCursor"] == cursors[start] and info["endCursor"] == cursors[end - 1]
            assert (info["hasPreviousPage"] if "last" in args else info["hasNextPage"]) is more
        # A range between two cursors, from either end.
        inside = full[4:9]
        args = {"after": cursors[3], "before": cursors[9]}
        assert (await _page(gql, token, query, path, first=2, **args))["edges"] == inside[:2]
        assert (await _page(gql, token, query, path, last=2, **args))["edges"] == inside[-2:]


async def test_an_enterprise_s_orders_page_backward_like_forward(demo: Demo, gql: Gql) -> None:
    token = await demo.token(scopes="customs:read")
    codes = await gql("{ enterprises(first: 500) { edges { node { code } } } }", token=token)
    for edge in codes["data"]["enterprises"]["edges"][:3]:
        code = edge["node"]["code"]
        query = '{ enterprise(code: "' + code + '") { orders(%s) { edges { cursor } %s } } }'
        full = (await _page(gql, token, query, ("enterprise", "orders"), first=500))["edges"]
        seen, before = [], None
        while True:
            args = {"last": 2} | ({"before": before} if before else {})
            page = await _page(gql, token, query, ("enterprise", "orders"), **args)
            seen = page["edges"] + seen
            if not page["pageInfo"]["hasPreviousPage"]:
                break
            before = page["pageInfo"]["startCursor"]
        assert seen == full


async def test_first_with_last_and_bad_sizes_are_bad_user_input(demo: Demo, gql: Gql) -> None:
    token = await demo.token(scopes="customs:read")
    for args in ("first: 2, last: 2", "last: -1", "last: 501", 'before: "!!"'):
        body = await gql("{ orders(" + args + ") { edges { cursor } } }", token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], args
        assert body["data"] is None
