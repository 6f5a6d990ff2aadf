"""Where the test servers come from: TEST_*_URL, else testcontainers with Docker, else embedded."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from webrana_common.embedded import EmbeddedPostgres, EmbeddedRedis, docker_available

# A throwaway server loses nothing by skipping durability, and every commit and every
# `CREATE DATABASE` of a test gets faster (template clones: ~80 ms -> ~35 ms on a busy disk).
THROWAWAY_POSTGRES_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
# In memory a clone takes ~15 ms; only where there is room for a few hundred test databases
# (Docker gives containers a 64 MB /dev/shm).
TMPFS = Path("/dev/shm")  # noqa: S108 - the server gets a private mkdtemp folder inside
TMPFS_MIN_FREE_BYTES = 1 << 30


def _scratch_dir() -> str | None:
    with contextlib.suppress(OSError):
        if os.access(TMPFS, os.W_OK) and shutil.disk_usage(TMPFS).free >= TMPFS_MIN_FREE_BYTES:
            return str(TMPFS)
    return None


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
    data_dir = Path(tempfile.mkdtemp(prefix="wbpg-", dir=_scratch_dir()))
    server = EmbeddedPostgres(data_dir, persistent=False)
    try:
        url = server.start()
        server.configure(THROWAWAY_POSTGRES_SETTINGS)
        yield url
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
