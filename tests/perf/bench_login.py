"""Login throughput: 16 concurrent clients logging in against the auth service under a real
uvicorn process, with the production argon2 parameters.

Embedded PostgreSQL and Redis, one migrated database, one registered user per client (so no
brute-force counter ever refuses a login: only successful logins are measured). The service
runs in its own process so the load generator does not share its interpreter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from auth_service.config import AuthSettings
from webrana_common.embedded import free_port
from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.servers import postgres_server, redis_server

CLIENTS = 16
PASSWORD = "kopi-tubruk-di-pagi-hari"


def _start_service(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "auth_service.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def _wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"auth exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/ready")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError("auth did not become ready")


async def _register(client: httpx.AsyncClient, index: int) -> str:
    email = f"bench{index}@example.co.id"
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": f"Bench {index}"},
    )
    response.raise_for_status()
    return email


async def _login_loop(
    client: httpx.AsyncClient, email: str, deadline: float, latencies: list[float]
) -> int:
    errors = 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        if response.status_code == 200:
            latencies.append(time.perf_counter() - start)
        else:
            errors += 1
    return errors


async def _measure(base_url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        await _wait_ready(client, process)
        emails = [await _register(client, i) for i in range(CLIENTS)]
        # Warm-up: connection pools, statement caches.
        await asyncio.gather(
            *(_login_loop(client, e, time.perf_counter() + 0.5, []) for e in emails)
        )
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        errors = sum(
            await asyncio.gather(*(_login_loop(client, e, deadline, latencies) for e in emails))
        )
        elapsed = time.perf_counter() - started
    if not latencies:
        raise RuntimeError(f"no successful login ({errors} errors)")
    cuts = statistics.quantiles(latencies, n=100)
    print(f"   clients: {CLIENTS}, duration: {elapsed:.1f} s, cpus: {os.cpu_count()}")
    print(f"   logins/s: {len(latencies) / elapsed:.1f} ({len(latencies)} ok, {errors} errors)")
    print(
        f"   latency p50: {cuts[49] * 1000:.1f} ms, p95: {cuts[94] * 1000:.1f} ms, "
        f"p99: {cuts[98] * 1000:.1f} ms"
    )


async def main(smoke: bool) -> None:
    seconds = 2.0 if smoke else 20.0
    defaults = AuthSettings(environment="development")
    print(
        f"   argon2id: time_cost={defaults.argon2_time_cost}, "
        f"memory_cost={defaults.argon2_memory_cost_kib} KiB, "
        f"parallelism={defaults.argon2_parallelism}",
        flush=True,
    )
    with (
        postgres_server() as admin_url,
        redis_server() as redis_url,
        tempfile.TemporaryDirectory(prefix="bench-auth-") as scratch,
    ):
        database_url = await DatabaseFactory(admin_url).create("auth")
        port = free_port()
        env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "JWT_KEYS_DIR": str(Path(scratch) / "keys"),
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(CLIENTS),
            # Nothing to notify during logins; registration mails go nowhere, fast.
            "NOTIFICATION_URL": "http://127.0.0.1:9",
        }
        for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST_KIB", "ARGON2_PARALLELISM"):
            env.pop(name, None)  # always the production parameters
        log = Path(scratch) / "auth.log"
        process = _start_service(env, port, log)
        try:
            await _measure(f"http://127.0.0.1:{port}", process, seconds)
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
