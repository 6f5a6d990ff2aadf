"""Gateway overhead: a small upstream GET direct vs through the gateway, in the same run.

The upstream is a FastAPI hello endpoint under uvicorn (one process); the gateway runs as
devstack starts it (`uvicorn --factory gateway_service.app:create_app`, plus
`--no-proxy-headers`) with Redis, and each request takes the gateway's full hot path: an
authenticated GET, its token verified at the edge (cached), counted in the caller's GCRA bucket
(reconciled with Redis every 20 ms; limits set high enough never to refuse), forwarded over a
kept-alive connection. Rounds alternate direct and gateway runs so that noise from other
processes on the machine hits both; medians are reported, with the CPU each process spent per
request (steadier than throughput on a shared machine).

Targets (full run): gateway >= 0.6x direct throughput, <= 3 ms added to p50, <= 150 MB RSS and
no growth (within 10%) between 100k and 200k proxied requests. The smoke run (CI, ~30 s)
checks that it all still works and prints the same figures without thresholds.

The load generator is wrk (installed with apt-get when missing and running as root); without
it, or with BENCH_LOAD_GENERATOR=python, a small Python generator is used, and the run says so.
On a shared machine, BENCH_WAIT_QUIET_SECONDS and BENCH_NICE keep other work out of the
comparison (see their functions).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.perf.load import Run, ensure_wrk, median_run, run_python, run_wrk
from webrana_common.embedded import EmbeddedRedis, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 32
PATH = "/api/v1/orders/hello"
ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"
TARGET_RATIO = 0.6
TARGET_ADDED_P50_MS = 3.0
TARGET_RSS_MB = 150.0
TARGET_RSS_GROWTH = 0.10


def upstream_app() -> Any:
    """The upstream: `uvicorn --factory tests.perf.bench_gateway:upstream_app`."""
    from fastapi import FastAPI

    app = FastAPI()
    jwks = json.loads(os.environ.get("BENCH_JWKS", '{"keys": []}'))

    @app.get(PATH)
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/.well-known/jwks.json")
    async def keys() -> dict[str, Any]:
        return jwks

    @app.get("/health")
    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


# -- priority


def _niceness() -> int | None:
    """BENCH_NICE=-10 (as root) runs every process of the benchmark at that priority, so that
    other work on a shared machine disturbs the comparison less. Direct and gateway runs are
    treated alike."""
    raw = os.environ.get("BENCH_NICE")
    return int(raw) if raw else None


def _prioritise(*pids: int) -> None:
    niceness = _niceness()
    if niceness is None:
        return
    for pid in pids:
        psutil.Process(pid).nice(niceness)


# -- processes


def _token_and_jwks() -> tuple[str, dict[str, Any]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jose import jwk, jwt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = jwk.construct(pem, algorithm="RS256").public_key().to_dict()
    public |= {"kid": "bench", "alg": "RS256", "use": "sig"}
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "role": "customer",
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "bench"})
    return token, {"keys": [public]}


def _uvicorn(factory: str, port: int, env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port),
        "--lifespan", "on", "--log-level", "warning", "--no-access-log", *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if (await client.get(f"{url}/health", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _rss_mb(process: subprocess.Popen[bytes]) -> float:
    return psutil.Process(process.pid).memory_info().rss / 1e6


# -- the benchmark


async def main(smoke: bool) -> None:
    # BENCH_LOAD_GENERATOR=python asks for the Python generator even where wrk is.
    wrk = None if os.environ.get("BENCH_LOAD_GENERATOR") == "python" else ensure_wrk()
    generator = "wrk" if wrk else "python (wrk not available or BENCH_LOAD_GENERATOR=python)"
    if wrk is None and not smoke:
        print("   no wrk: the Python generator shares the CPUs it measures; figures are low")
    load_average = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    niceness = _niceness()
    priority = f"; every process at nice {niceness}" if niceness is not None else ""
    print(
        f"   load generator: {generator}; {CONNECTIONS} connections; "
        f"{os.cpu_count()} CPUs, load average before start {load_average}{priority}",
        flush=True,
    )

    async def load(url: str, seconds: float, connections: int = CONNECTIONS) -> Run:
        """One run of the load generator (wrk when available)."""
        headers = {"Authorization": f"Bearer {token}"}
        if wrk:
            return await run_wrk(
                wrk, url, seconds, connections=connections, headers=headers, niceness=_niceness()
            )
        return await run_python(url, seconds, connections=connections, headers=headers)

    token, jwks = _token_and_jwks()
    redis = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="bench-redis-")), persistent=False)
        redis_url = redis.start()
    upstream_port, gateway_port = free_port(), free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    base_env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), base_env.get("PYTHONPATH", "")])
    upstream = _uvicorn(
        "tests.perf.bench_gateway:upstream_app",
        upstream_port,
        {**base_env, "BENCH_JWKS": json.dumps(jwks)},
    )
    services = {
        f"{s.upper()}_URL": upstream_url
        for s in ("auth", "catalog", "order", "billing", "notification", "instance")
    }
    gateway = _uvicorn(
        "gateway_service.app:create_app",
        gateway_port,
        {
            **base_env,
            **services,
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": redis_url,
            "JWKS_URL": f"{upstream_url}/.well-known/jwks.json",
            # Counted in Redis on every request, never refused.
            "RATE_LIMIT_READ": "1000000000/minute",
            "OPENAPI_REFRESH_SECONDS": "3600",
        },
        # As the gateway must run: it judges X-Forwarded-* itself (TRUSTED_PROXIES).
        "--no-proxy-headers",
    )
    try:
        await _wait_healthy(upstream_url, upstream)
        await _wait_healthy(gateway_url, gateway)
        redis_pid = [redis.process.pid] if redis is not None and redis.process else []
        _prioritise(upstream.pid, gateway.pid, *redis_pid)
        async with httpx.AsyncClient(trust_env=False) as client:
            check = await client.get(
                gateway_url + PATH, headers={"Authorization": f"Bearer {token}"}
            )
            if check.status_code != 200 or "ratelimit-remaining" not in check.headers:
                raise RuntimeError(f"gateway answered {check.status_code}: {check.text[:300]}")
        await _measure(
            load, upstream_url + PATH, gateway_url + PATH, upstream, gateway, smoke, bool(wrk)
        )
    finally:
        _stop(gateway)
        _stop(upstream)
        if redis is not None:
            redis.stop()


def _idle_share(seconds: float = 1.0) -> float:
    """The share of CPU time the whole machine spent idle over the next `seconds` (Linux)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(n) for n in stat.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)

    idle_before, total_before = sample()
    time.sleep(seconds)
    idle_after, total_after = sample()
    return (idle_after - idle_before) / max(1, total_after - total_before)


async def _wait_for_quiet() -> None:
    """BENCH_WAIT_QUIET_SECONDS=120 waits (at most that long) before each round until the
    machine is at least 90% idle, so that a shared machine's other work does not decide the
    comparison; how long it waited is printed."""
    limit = float(os.environ.get("BENCH_WAIT_QUIET_SECONDS", "0"))
    if limit <= 0 or not Path("/proc/stat").exists():
        return
    started = time.monotonic()
    while (idle := await asyncio.to_thread(_idle_share)) < 0.9:
        if time.monotonic() - started > limit:
            print(f"   (machine still busy, {idle:.0%} idle: measuring anyway)", flush=True)
            return
    print(f"   (waited {time.monotonic() - started:.0f} s for an idle machine)", flush=True)


def _cpu_seconds(process: subprocess.Popen[bytes] | None = None) -> float:
    """CPU seconds of a running process, or of the finished load-generator runs."""
    if process is None:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


async def _measure(
    load: Any,
    direct_url: str,
    gateway_url: str,
    upstream: subprocess.Popen[bytes],
    gateway: subprocess.Popen[bytes],
    smoke: bool,
    external_load: bool,
) -> None:
    # Short alternating rounds: each gateway run is compared with the direct run just before
    # it, so load from other processes that comes and goes affects both sides of a ratio.
    rounds, seconds = (1, 4.0) if smoke else (6, 6.0)
    proxied = 0
    await load(direct_url, 2)
    proxied += (await load(gateway_url, 2)).requests
    direct_runs: list[Run] = []
    gateway_runs: list[Run] = []
    cpu = dict.fromkeys(("upstream direct", "wrk direct", "upstream", "gateway", "wrk"), 0.0)
    for _ in range(rounds):
        await _wait_for_quiet()
        before, before_wrk = _cpu_seconds(upstream), _cpu_seconds()
        run = await load(direct_url, seconds)
        cpu["upstream direct"] += (_cpu_seconds(upstream) - before) / run.requests
        cpu["wrk direct"] += (_cpu_seconds() - before_wrk) / run.requests
        direct_runs.append(run)
        before, before_gateway = _cpu_seconds(upstream), _cpu_seconds(gateway)
        before_wrk = _cpu_seconds()
        run = await load(gateway_url, seconds)
        cpu["upstream"] += (_cpu_seconds(upstream) - before) / run.requests
        cpu["gateway"] += (_cpu_seconds(gateway) - before_gateway) / run.requests
        cpu["wrk"] += (_cpu_seconds() - before_wrk) / run.requests
        gateway_runs.append(run)
        proxied += run.requests
    direct = median_run(direct_runs)
    through = median_run(gateway_runs)
    idle_direct = await load(direct_url, 2 if smoke else 5, connections=1)
    idle_gateway = await load(gateway_url, 2 if smoke else 5, connections=1)
    proxied += idle_gateway.requests

    marks = (5_000, 10_000) if smoke else (100_000, 200_000)
    rss: dict[int, float] = {}
    for mark in marks:
        while proxied < mark:
            left = (mark - proxied) / max(through.rps, 1)
            proxied += (await load(gateway_url, min(10.0, max(1.0, left)))).requests
        rss[mark] = _rss_mb(gateway)

    ratio = statistics.median(g.rps / d.rps for d, g in zip(direct_runs, gateway_runs, strict=True))
    added_p50 = through.p50_ms - direct.p50_ms
    added_idle_p50 = idle_gateway.p50_ms - idle_direct.p50_ms
    growth = (rss[marks[1]] - rss[marks[0]]) / rss[marks[0]]
    errors = sum(r.errors for r in gateway_runs)
    us = {name: total / rounds * 1e6 for name, total in cpu.items()}
    for name, run in (("direct ", direct), ("gateway", through)):
        print(
            f"   {name}: {run.rps:7.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
        )
    ratios = ", ".join(
        f"{g.rps / d.rps:.2f}" for d, g in zip(direct_runs, gateway_runs, strict=True)
    )
    print(f"   ratio  : {ratio:.2f}x direct throughput (median of rounds: {ratios})")
    print(f"   p50    : {added_p50:+.2f} ms added under load")
    print(
        f"   1 conn : direct p50 {idle_direct.p50_ms:.2f} ms / p99 {idle_direct.p99_ms:.2f} ms; "
        f"gateway p50 {idle_gateway.p50_ms:.2f} ms / p99 {idle_gateway.p99_ms:.2f} ms "
        f"({added_idle_p50:+.2f} ms)"
    )
    print(
        f"   CPU    : gateway {us['gateway']:.0f} us/request; upstream {us['upstream direct']:.0f} "
        f"us/request direct, {us['upstream']:.0f} through the gateway"
    )
    if external_load:
        # What the CPU figures allow on this machine with nothing else running: each process
        # gets at most one core, all of them share os.cpu_count().
        cores = os.cpu_count() or 1

        def capacity(*per_request: float) -> float:
            return 1e6 / max(*per_request, sum(per_request) / cores)

        direct_capacity = capacity(us["upstream direct"], us["wrk direct"])
        proxied_capacity = capacity(us["gateway"], us["upstream"], us["wrk"])
        print(
            f"   bound  : {proxied_capacity / direct_capacity:.2f}x from CPU per request alone "
            f"({direct_capacity:.0f} vs {proxied_capacity:.0f} req/s on {cores} idle cores)"
        )
    print(
        f"   RSS    : {rss[marks[0]]:.1f} MB after {marks[0]:,} proxied requests, "
        f"{rss[marks[1]]:.1f} MB after {marks[1]:,} ({growth:+.1%}); {proxied:,} in all"
    )
    print(f"   errors : {errors} non-2xx or socket errors through the gateway")
    if smoke:
        return
    checks = {
        f"throughput >= {TARGET_RATIO}x direct": ratio >= TARGET_RATIO,
        f"p50 added <= {TARGET_ADDED_P50_MS} ms": added_p50 <= TARGET_ADDED_P50_MS,
        f"RSS <= {TARGET_RSS_MB:.0f} MB": rss[marks[1]] <= TARGET_RSS_MB,
        f"RSS growth 100k->200k <= {TARGET_RSS_GROWTH:.0%}": growth <= TARGET_RSS_GROWTH,
        "no errors through the gateway": errors == 0,
    }
    for name, ok in checks.items():
        print(f"   {'PASS' if ok else 'FAIL'}  {name}")
