"""The upstream HTTP/1.1 client against a server that answers byte for byte: framings (length,
chunked, until close), HEAD, informational answers, keep-alive reuse, broken answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from conftest import RunningGateway
from gateway_tokens import TokenMint

from gateway_service.upstream_connection import (
    UpstreamClosed,
    UpstreamConnectError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from gateway_service.upstream_pool import UpstreamPool

Script = Callable[[bytes], bytes | None]


class ScriptedServer:
    """Answers each request head with `script(head)`; None closes the connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                answer = self.script(head)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    # A lingering close, as servers do: closing with unread input makes the
                    # kernel send a reset, which may discard the answer before the gateway
                    # reads it (a race no proxy can win).
                    writer.write_eof()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(2):
                            while await reader.read(65536):
                                pass
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.server is not None:
            server.server.close()


async def _running(server: ScriptedServer) -> ScriptedServer:
    server.server = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    return server


def _pool(url: str) -> UpstreamPool:
    return UpstreamPool("catalog", url, max_connections=4, connect_timeout=1, keepalive_seconds=4)


async def _exchange(pool: UpstreamPool, method: str = "GET") -> tuple[int, bytes]:
    connection = await pool.acquire()
    response = connection.start(method == "HEAD")
    try:
        connection.write(f"{method} / HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        await response.wait_headers(2)
        body = b""
        while (chunk := await response.read_chunk(2)) is not None:
            body += chunk
        return response.status, body
    finally:
        pool.release(connection)


async def test_length_framed_answers_reuse_the_connection(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(
        scripted(lambda _: b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
    )
    pool = _pool(server.url)
    assert await _exchange(pool) == (200, b"hello")
    assert await _exchange(pool) == (200, b"hello")
    assert server.connections == 1
    pool.close()


async def test_chunked_answers_are_read_whole(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    server = await _running(scripted(lambda _: answer))
    pool = _pool(server.url)
    assert await _exchange(pool) == (200, b"abcde")
    assert await _exchange(pool) == (200, b"abcde")
    assert server.connections == 1
    pool.close()


async def test_an_answer_framed_by_closing_ends_at_the_close(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(
        scripted(lambda _: b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
    )
    pool = _pool(server.url)
    assert await _exchange(pool) == (200, b"until the end")
    assert await _exchange(pool) == (200, b"until the end")
    assert server.connections == 2  # not reusable
    pool.close()


async def test_head_answers_end_at_their_headers_and_keep_the_connection(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    def script(head: bytes) -> bytes:
        if head.startswith(b"HEAD"):
            return b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"

    server = await _running(scripted(script))
    pool = _pool(server.url)
    assert await _exchange(pool, "HEAD") == (200, b"")
    assert await _exchange(pool) == (200, b"hello")
    pool.close()


async def test_no_content_answers_keep_the_connection(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(scripted(lambda _: b"HTTP/1.1 204 No Content\r\n\r\n"))
    pool = _pool(server.url)
    assert await _exchange(pool) == (204, b"")
    assert await _exchange(pool) == (204, b"")
    assert server.connections == 1
    pool.close()


async def test_informational_answers_are_skipped(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok"
    server = await _running(scripted(lambda _: answer))
    assert await _exchange(_pool(server.url)) == (201, b"ok")


async def test_a_connection_closed_before_answering_is_an_error(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(scripted(lambda _: None))
    with pytest.raises(UpstreamClosed):
        await _exchange(_pool(server.url))


async def test_garbage_is_a_protocol_error(
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(scripted(lambda _: b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    with pytest.raises(UpstreamProtocolError):
        await _exchange(_pool(server.url))


async def test_silence_is_a_timeout(scripted: Callable[[Script], ScriptedServer]) -> None:
    server = await _running(scripted(lambda _: b""))
    connection = await _pool(server.url).acquire()
    response = connection.start(False)
    connection.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    with pytest.raises(UpstreamTimeout):
        await response.wait_headers(0.2)


async def test_a_full_pool_makes_callers_wait_then_gives_up() -> None:
    pool = UpstreamPool(
        "catalog", "http://127.0.0.1:9", max_connections=1, connect_timeout=0.2, keepalive_seconds=4
    )
    with pytest.raises(UpstreamConnectError):
        await pool.acquire()  # port 9 (discard) refuses
    assert pool.open_connections == 0


async def test_garbage_from_a_service_is_a_502_naming_it(
    start_gateway: Callable[..., RunningGateway],
    scripted: Callable[[Script], ScriptedServer],
) -> None:
    server = await _running(scripted(lambda _: b"NOT HTTP AT ALL\r\n\r\n"))
    gateway = start_gateway(catalog_url=server.url)
    async with httpx.AsyncClient(base_url=gateway.url, trust_env=False) as client:
        response = await client.get("/api/v1/catalog/plans")
    assert response.status_code == 502
    assert response.json()["code"] == "upstream_error"
    assert response.json()["service"] == "catalog"


async def test_an_early_answer_from_a_service_is_relayed(
    start_gateway: Callable[..., RunningGateway],
    scripted: Callable[[Script], ScriptedServer],
    mint: TokenMint,
) -> None:
    """A service may refuse an upload as soon as it sees the head, and close."""
    answer = (
        b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n"
        b'content-length: 17\r\nconnection: close\r\n\r\n{"code":"early"}\n'
    )
    server = await _running(scripted(lambda _: answer))
    gateway = start_gateway(instance_url=server.url, max_body_bytes="8MiB")

    async def upload():  # type: ignore[no-untyped-def]
        for _ in range(64):
            yield b"u" * 65536
            await asyncio.sleep(0.005)

    async with httpx.AsyncClient(base_url=gateway.url, trust_env=False) as client:
        response = await client.post(
            "/api/v1/instances/x/iso",
            content=upload(),
            headers=mint.bearer(),
        )
    assert response.status_code == 413
    assert response.json() == {"code": "early"}
