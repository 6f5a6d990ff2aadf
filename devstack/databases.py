"""PostgreSQL and Redis for the fleet (embedded, unless DATABASE_URL / REDIS_URL name servers),
then one database per service, its migrations and its seed data."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil

from devstack.console import Console
from devstack.errors import FleetError
from devstack.fleet import Ports, Service
from devstack.home import Home
from devstack.supervisor import run_to_completion
from webrana_common.embedded import EmbeddedPostgres, EmbeddedRedis

T = TypeVar("T")

# platformdirs warns on every import of pgserver when XDG_RUNTIME_DIR is unset (containers).
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


async def to_completion(fn: Callable[[], T]) -> T:
    """Run blocking `fn` in a thread and let it finish even if we are cancelled meanwhile: a
    server started behind our back after a Ctrl-C could never be stopped."""
    task = asyncio.ensure_future(asyncio.to_thread(fn))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def postgres_log_tail(pgdata: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join((pgdata / "log").read_text(errors="replace").splitlines()[-lines:])
    return ""


@dataclass
class DataServers:
    postgres_url: str  # the server (its maintenance database), not a service's database
    redis_url: str | None
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    def database_urls(self, services: Sequence[Service]) -> dict[str, str]:
        return {
            s.name: with_database(self.postgres_url, s.database_name)
            for s in services
            if s.has_database
        }

    @property
    def postgres_pid(self) -> int | None:
        if self.postgres is None:
            return None
        return postmaster_pid(self.postgres.data_dir)

    @property
    def redis_pid(self) -> int | None:
        return self.redis.process.pid if self.redis and self.redis.process else None


def postmaster_pid(pgdata: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    return None


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when the last process holding it exits, counting holders in
    `.handle_pids.json`. A holder killed with SIGKILL never leaves that list, and the server
    would then never be stopped again; drop the dead ones before attaching."""
    path = pgdata / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError):
        pids = json.loads(path.read_text())
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


def stop_postgres_at(pgdata: Path, timeout: float = 10.0) -> None:
    """Stop a server left running on `pgdata` (before wiping it), with a fast shutdown."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        if not process.name().startswith("postgres"):
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()


async def _stop(console: Console, what: str, stop: Callable[[], None]) -> None:
    with console.step(what):
        await to_completion(stop)


async def start_servers(
    home: Home, ports: Ports, console: Console, stack: AsyncExitStack, *, redis: bool = True
) -> DataServers:
    """The servers of DATABASE_URL / REDIS_URL, else embedded ones stopped by `stack`."""
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        console.info(f"* PostgreSQL: {mask_password(database_url)} (from DATABASE_URL)")
        servers = DataServers(postgres_url=database_url, redis_url=None)
    else:
        postgres = EmbeddedPostgres(home.postgres)
        # Registered before starting, so a failure or Ctrl-C half way still stops it.
        stack.push_async_callback(_stop, console, "stopping PostgreSQL", postgres.stop)
        with console.step(f"starting PostgreSQL (embedded, data in {home.postgres})"):
            _forget_dead_handles(home.postgres)
            try:
                url = await to_completion(postgres.start)
            except Exception as exc:
                raise FleetError(
                    f"PostgreSQL did not start: {exc}\nlast lines of {home.postgres}/log:\n"
                    + postgres_log_tail(home.postgres)
                ) from exc
        servers = DataServers(postgres_url=url, redis_url=None, postgres=postgres)
    if not redis:
        return servers
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        console.info(f"* Redis: {mask_password(redis_url)} (from REDIS_URL)")
        servers.redis_url = redis_url
        return servers
    embedded = EmbeddedRedis(home.redis, port=ports.redis, persistent=True)
    stack.push_async_callback(_stop, console, "stopping Redis", embedded.stop)
    with console.step(f"starting Redis (embedded, port {ports.redis}, data in {home.redis})"):
        try:
            servers.redis_url = await to_completion(embedded.start)
        except Exception as exc:
            raise FleetError(f"Redis did not start: {exc} (log: {home.redis}/redis.log)") from exc
    servers.redis = embedded
    return servers


async def _connect(server_url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(_asyncpg_dsn(server_url), timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise FleetError(f"cannot reach PostgreSQL at {mask_password(server_url)}: {exc}") from exc


async def ensure_databases(server_url: str, services: Sequence[Service], console: Console) -> None:
    conn = await _connect(server_url)
    try:
        for service in services:
            if not service.has_database:
                continue
            name = service.database_name
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
                console.info(f"  created database {name}")
    finally:
        await conn.close()


async def drop_databases(server_url: str, services: Sequence[Service], console: Console) -> None:
    """`--fresh` against a server of DATABASE_URL: the fleet's own databases only."""
    conn = await _connect(server_url)
    try:
        for service in services:
            if service.has_database:
                name = service.database_name
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                console.info(f"  dropped database {name}")
    finally:
        await conn.close()


def _python_env(service: Service, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Services of this checkout import even when pyproject does not install them yet.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(service.root), env.get("PYTHONPATH")]))
    return env | extra


async def migrate(services: Sequence[Service], urls: dict[str, str], console: Console) -> None:
    """`alembic upgrade head` of every service, in parallel (each has its own database)."""

    async def one(service: Service) -> str | None:
        argv = [sys.executable, "-m", "alembic", "-c", str(service.alembic_ini), "upgrade", "head"]
        env = _python_env(service, DATABASE_URL=urls[service.name])
        code, output = await run_to_completion(argv, env, service.root)
        if code != 0:
            return output
        console.info(f"  {service.name}: migrated")
        return None

    wanted = [s for s in services if s.has_database]
    with console.step(f"migrating {', '.join(s.name for s in wanted) or 'nothing'}"):
        failures = await asyncio.gather(*(one(s) for s in wanted))
    failed = [(s, out) for s, out in zip(wanted, failures, strict=True) if out is not None]
    for service, output in failed:
        for line in output.rstrip().splitlines()[-40:]:
            console.child_line(f"{service.name}-migrate", line)
    if failed:
        raise FleetError(f"migrations failed for {', '.join(s.name for s, _ in failed)}")


# Run in a process of its own: a seed opens engines and may fail, neither should touch us.
_SEED_RUNNER = "import asyncio, importlib, sys; asyncio.run(importlib.import_module(sys.argv[1]).seed(sys.argv[2]))"  # noqa: E501


async def seed(services: Sequence[Service], urls: dict[str, str], console: Console) -> None:
    """Each `<name>_service.seed.seed(database_url)`, after every migration. It runs on every
    `webrana up`, so a seed inserts what is missing and leaves the rest alone."""
    for service in services:
        if not (service.has_seed and service.name in urls):
            continue
        with console.step(f"seeding {service.name}"):
            module, url = f"{service.package}.seed", urls[service.name]
            argv = [sys.executable, "-c", _SEED_RUNNER, module, url]
            code, output = await run_to_completion(argv, _python_env(service), service.root)
            for line in output.rstrip().splitlines():
                console.child_line(f"{service.name}-seed", line)
            if code != 0:
                raise FleetError(f"seeding {service.name} failed (exit code {code})")


async def flush_redis(redis_url: str, services: Sequence[Service], console: Console) -> None:
    """`--fresh` against a server of REDIS_URL: the fleet's own database numbers only."""
    from redis.asyncio import Redis

    for service in services:
        client = Redis.from_url(with_redis_db(redis_url, service.redis_db))
        try:
            await client.flushdb()
        finally:
            await client.aclose()
        console.info(f"  flushed Redis database {service.redis_db} ({service.name})")
