"""Public catalog throughput: `GET /api/v1/catalog/plans` on the seed catalog (21 plans,
~20 KB of JSON), and the same request made conditional (`If-None-Match` → 304).

Embedded PostgreSQL and Redis, one migrated and seeded database; the catalog runs as it is
deployed (`uvicorn --factory catalog_service.app:create_app`, uvloop + httptools, one process)
and a bare FastAPI hello endpoint runs beside it as the machine's reference. Rounds alternate
the three loads so that noise from other processes hits all of them; medians are reported,
with the load average, because the machine may be shared.

Targets (full run): the full list >= 2,500 req/s at 32 connections, and a 304 cheaper than
the full list: more req/s when the two run back to back, and a fiftieth of the bytes. The CPU
the catalog process spends per answer (psutil) is printed too: it depends less than req/s on
the machine's other load, and shows what is left once both are served from memory: the
server's own per-request cost, about the same for a 304 and for 20 KB from the cache.

The load generator is wrk (installed with apt-get when missing and running as root); without
it the smoke run falls back to a small Python generator and says so.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from catalog_service.seed import seed
from tests.perf.load import Run, ensure_wrk, median_run, run_python, run_wrk
from webrana_common.embedded import free_port
from webrana_common.testing.databases import DatabaseFactory
from webrana_common.testing.servers import postgres_server, redis_server

REPO_ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 32
PLANS = "/api/v1/catalog/plans"
TARGET_LIST_RPS = 2500.0


def hello_app() -> Any:
    """The reference: `uvicorn --factory tests.perf.bench_catalog:hello_app`."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# -- processes


def _uvicorn(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools",
        "--lifespan", "on", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


async def _wait_ready(url: str, path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                stderr = process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
                raise RuntimeError(f"{url} exited: {stderr}")
            try:
                if (await client.get(url + path, timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


# -- the benchmark


async def main(smoke: bool) -> None:
    wrk = ensure_wrk()
    if wrk is None and not smoke:
        raise SystemExit("the full catalog benchmark needs wrk (apt-get install wrk)")
    generator = "wrk" if wrk else "python (wrk unavailable: figures are lower than wrk's)"
    print(f"   load generator: {generator}; {CONNECTIONS} connections", flush=True)

    async def load(url: str, seconds: float, headers: dict[str, str], status: int) -> Run:
        if wrk:
            return await run_wrk(wrk, url, seconds, connections=CONNECTIONS, headers=headers)
        return await run_python(
            url, seconds, connections=CONNECTIONS, headers=headers, expect_status=status
        )

    def measured(process: subprocess.Popen[bytes]) -> Any:
        """`load`, also charging the CPU time `process` spent to each answer."""
        server = psutil.Process(process.pid)

        async def run(url: str, seconds: float, headers: dict[str, str], status: int) -> Run:
            before = server.cpu_times()
            result = await load(url, seconds, headers, status)
            after = server.cpu_times()
            spent = (after.user - before.user) + (after.system - before.system)
            result.cpu_us_per_answer = spent * 1e6 / max(result.requests, 1)
            return result

        return run

    with postgres_server() as admin_url, redis_server() as redis_url:
        database_url = await DatabaseFactory(admin_url).create("catalog")
        await seed(database_url)
        env = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        catalog_port, hello_port = free_port(), free_port()
        catalog = _uvicorn(
            "catalog_service.app:create_app",
            catalog_port,
            {
                **env,
                "ENVIRONMENT": "development",
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
            },
        )
        hello = _uvicorn("tests.perf.bench_catalog:hello_app", hello_port, env)
        try:
            catalog_url = f"http://127.0.0.1:{catalog_port}"
            hello_url = f"http://127.0.0.1:{hello_port}"
            await _wait_ready(catalog_url, "/ready", catalog)
            await _wait_ready(hello_url, "/health", hello)
            etag = await _check(catalog_url)
            await _measure(
                measured(catalog), measured(hello), catalog_url + PLANS, hello_url + "/hello",
                etag, smoke,
            )  # fmt: skip
            await _check(catalog_url)  # still answering correctly after the load
        finally:
            _stop(catalog)
            _stop(hello)


async def _check(catalog_url: str) -> str:
    async with httpx.AsyncClient(base_url=catalog_url, trust_env=False) as client:
        full = await client.get(PLANS)
        if full.status_code != 200 or len(full.json()["items"]) != 21:
            raise RuntimeError(f"catalog answered {full.status_code}: {full.text[:300]}")
        etag = full.headers["etag"]
        conditional = await client.get(PLANS, headers={"If-None-Match": etag})
        if conditional.status_code != 304:
            raise RuntimeError(f"conditional GET answered {conditional.status_code}")
    print(f"   body: {len(full.content):,} bytes, {len(full.json()['items'])} plans, ETag {etag}")
    return etag


async def _measure(
    load: Any, load_hello: Any, plans_url: str, hello_url: str, etag: str, smoke: bool
) -> None:
    # Many short rounds, list and 304 back to back: the pair sees the same machine.
    rounds, seconds = (1, 3.0) if smoke else (5, 6.0)
    conditional = {"If-None-Match": etag}
    before = os.getloadavg()
    for url, headers, status in ((plans_url, {}, 200), (plans_url, conditional, 304)):
        await load(url, 2, headers, status)  # warm-up
    await load_hello(hello_url, 2, {}, 200)
    runs: dict[str, list[Run]] = {"list": [], "304": [], "hello": []}
    for _ in range(rounds):
        runs["list"].append(await load(plans_url, seconds, {}, 200))
        runs["304"].append(await load(plans_url, seconds, conditional, 304))
        runs["hello"].append(await load_hello(hello_url, seconds, {}, 200))
    after = os.getloadavg()
    figures = {name: median_run(r) for name, r in runs.items()}
    ratios = [c.rps / f.rps for f, c in zip(runs["list"], runs["304"], strict=True)]
    print(
        f"   cpus: {os.cpu_count()}; load average before {before[0]:.2f} {before[1]:.2f} "
        f"{before[2]:.2f}, after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}"
    )
    labels = {
        "list": "GET /plans (200)",
        "304": "GET /plans (304)",
        "hello": "bare FastAPI hello",
    }
    for name, run in figures.items():
        print(
            f"   {labels[name]:<20} {run.rps:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
            f"p99 {run.p99_ms:6.2f} ms  {run.cpu_us_per_answer:5.0f} us CPU/answer  "
            f"{run.bytes_per_answer:6,.0f} B/answer  errors {run.errors}"
        )
    capacity = {name: 1e6 / max(run.cpu_us_per_answer, 1e-9) for name, run in figures.items()}
    print(
        "   one core's worth of answers (1 s / CPU per answer): "
        f"list {capacity['list']:,.0f}/s, 304 {capacity['304']:,.0f}/s, "
        f"hello {capacity['hello']:,.0f}/s"
    )
    print(
        f"   304 vs full list, back to back: {statistics.median(ratios):.2f}x the req/s "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}), "
        f"{figures['304'].cpu_us_per_answer / figures['list'].cpu_us_per_answer:.2f}x the CPU"
    )
    if smoke:
        return
    checks = {
        f"full list >= {TARGET_LIST_RPS:.0f} req/s": figures["list"].rps >= TARGET_LIST_RPS,
        "304 cheaper than the full list: more req/s back to back": (
            statistics.median(ratios) > 1.0
        ),
        "304 cheaper than the full list: < 1/50 of the bytes": (
            figures["304"].bytes_per_answer * 50 < figures["list"].bytes_per_answer
        ),
        "no errors": all(r.errors == 0 for r in figures.values()),
    }
    for name, ok in checks.items():
        print(f"   {'PASS' if ok else 'FAIL'}  {name}")
