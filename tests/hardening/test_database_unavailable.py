"""While PostgreSQL is unreachable every request that needs it gets 503; then the hub recovers.

The database is reached through a TCP proxy the test stops and restarts, so the outage is
real (refused connections, severed pooled connections) and the app is never restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.engine import make_url

from hub import migrate
from hub.app import create_app
from hub.auth import clients
from hub.config import Settings
from hub.db import create_engine, create_session_factory, unit_of_work
from tests.conftest import blocking
from tests.support import TEST_ISSUER

pytestmark = pytest.mark.postgres


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database; `stop` refuses and severs connections."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # what a crashed server or a cut cable looks like
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()
                self._writers.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def proxied(
    fresh_postgres_database: Callable[[], str],
) -> AsyncIterator[tuple[TcpProxy, Settings]]:
    direct = fresh_postgres_database()
    blocking(migrate.upgrade, database_url=direct)
    url = make_url(direct)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port)
    settings = Settings(
        database_url=through_proxy.render_as_string(hide_password=False),
        issuer=TEST_ISSUER,
        env="test",
    )
    try:
        yield proxy, settings
    finally:
        await proxy.stop()


async def _register(settings: Settings, scopes: str) -> tuple[str, str]:
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            created = await clients.create(
                session=session, name="outage", scopes=scopes, enterprise_code=None
            )
    finally:
        await engine.dispose()
    return created.client_id, created.client_secret


async def test_requests_needing_the_database_get_503_during_an_outage_then_200_after_it(
    proxied: tuple[TcpProxy, Settings],
) -> None:
    proxy, settings = proxied
    client_id, secret = await _register(settings, "customs:read standards:write")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=TEST_ISSUER) as http:

            async def token() -> httpx.Response:
                return await http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )

            issued = await token()
            assert issued.status_code == 200, issued.text
            headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}

            async def graphql(query: str) -> httpx.Response:
                return await http.post("/graphql", json={"query": query}, headers=headers)

            read = "{ standards { id } orders(first: 1) { edges { cursor } } }"
            write = (
                'mutation { createStandard(input: {id: "zone.o", title: "O", owner: "c"}) '
                "{ errors { code } } }"
            )
            assert (await graphql(read)).status_code == 200

            await proxy.stop()
            outage: list[httpx.Response] = [
                await graphql(read),
                await graphql(write),
                await token(),
                await http.get("/healthz"),
            ]

            await proxy.start()
            recovered_read = await graphql(read)
            recovered_token = await token()

    for response in outage:
        assert response.status_code == 503, response.text
        assert "Traceback" not in response.text
    graphql_read, graphql_write, token_response, _ = (r.json() for r in outage)
    for body in (graphql_read, graphql_write):
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"SERVICE_UNAVAILABLE"}, body
    assert token_response["code"] == "SERVICE_UNAVAILABLE"
    assert token_response["error"] == "temporarily_unavailable"
    assert recovered_read.status_code == 200, recovered_read.text
    assert recovered_read.json()["data"]["standards"] == []
    assert recovered_token.status_code == 200
