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
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from catalog_service.seed import seed
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


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # wrk counts statuses >= 400 ("Non-2xx or 3xx responses", despite the name) and socket
    # errors; a 304 is told from a 200 by its size (`bytes_per_answer`: headers only).
    errors: int = 0
    bytes_per_answer: float = 0.0
    # CPU time the serving process spent per answer (user + system): what an answer costs,
    # whatever else the shared machine is doing.
    cpu_us_per_answer: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


# -- load generation


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("   wrk not found: installing it with apt-get", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, capture_output=True
        )
        return shutil.which("wrk")
    return None


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


_SIZES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_wrk(output: str) -> Run:
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (requests and p50 and p99):
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    count = int(requests.group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(failed.group(1)) if failed else 0
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    read = re.search(r"([\d.]+)(B|KB|MB|GB) read", output)
    size = float(read.group(1)) * _SIZES[read.group(2)] if read else 0.0
    seconds = _ms(requests.group(2) + requests.group(3)) / 1000
    return Run(count, seconds, _ms(p50.group(1)), _ms(p99.group(1)), errors, size / max(count, 1))


async def run_wrk(wrk: str, url: str, seconds: float, headers: dict[str, str]) -> Run:
    argv = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    process = await asyncio.create_subprocess_exec(
        *argv, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return parse_wrk(output.decode())


async def run_python(url: str, seconds: float, headers: dict[str, str], expect_status: int) -> Run:
    """Keep-alive GETs over `CONNECTIONS` asyncio connections: a stand-in for wrk, slower (it
    shares the cores with what it measures), good enough to prove things work."""
    parts = httpx.URL(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n{extra}\r\n"
    ).encode()
    expected = f"HTTP/1.1 {expect_status}".encode()
    latencies: list[float] = []
    unexpected = 0
    received = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal unexpected, received
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: (\d+)", head)
                body = await reader.readexactly(int(length.group(1)) if length else 0)
                received += len(head) + len(body)
                latencies.append(time.perf_counter() - start)
                if not head.startswith(expected):
                    unexpected += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    count = len(latencies)
    return Run(count, elapsed, pick(0.50), pick(0.99), unexpected, received / max(count, 1))


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
            return await run_wrk(wrk, url, seconds, headers)
        return await run_python(url, seconds, headers, status)

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
    figures = {name: _median(r) for name, r in runs.items()}
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


def _median(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda r: r.rps)
    middle = ordered[len(ordered) // 2]
    return Run(
        middle.requests,
        middle.seconds,
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
        statistics.median(r.bytes_per_answer for r in runs),
        statistics.median(r.cpu_us_per_answer for r in runs),
    )
