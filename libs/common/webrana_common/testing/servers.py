"""Where the test servers come from: TEST_*_URL, else testcontainers with Docker, else embedded."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from webrana_common.embedded import EmbeddedPostgres, EmbeddedRedis, docker_available


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    # A short, private path: the Unix socket lives in the data folder.
    data_dir = Path(tempfile.mkdtemp(prefix="wbpg-"))
    server = EmbeddedPostgres(data_dir, persistent=False)
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    if docker_available():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="wbredis-")), persistent=False)
    try:
        yield server.start()
    finally:
        server.stop()
