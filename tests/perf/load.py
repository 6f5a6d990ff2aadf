"""HTTP load for the benchmarks: keep-alive GETs of one URL from many connections, by wrk when
it is there (`ensure_wrk`) or by a small Python generator, read into a `Run` (req/s, p50/p99
latency, errors, bytes per answer). Not a benchmark itself: `__main__` runs `bench_*` only.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass

import httpx


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # wrk counts statuses >= 400 ("Non-2xx or 3xx responses", despite the name) and socket
    # errors; the Python generator counts answers whose status is not the one expected.
    errors: int = 0
    # Bytes read per answer (headers and body): a 304 is told from a 200 by its size.
    bytes_per_answer: float = 0.0
    # CPU time the serving process spent per answer (user + system), for a bench to fill in:
    # what an answer costs, whatever else the shared machine is doing.
    cpu_us_per_answer: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def ensure_wrk() -> str | None:
    """The wrk binary, installed with apt-get when missing and running as root; None when
    unavailable."""
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
    """wrk's report (run with `--latency`) as a `Run`."""
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (requests and p50 and p99):
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    count = int(requests.group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(failed.group(1)) if failed else 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    read = re.search(r"([\d.]+)(B|KB|MB|GB) read", output)
    size = float(read.group(1)) * _SIZES[read.group(2)] if read else 0.0
    seconds = _ms(requests.group(2) + requests.group(3)) / 1000
    return Run(count, seconds, _ms(p50.group(1)), _ms(p99.group(1)), errors, size / max(count, 1))


async def run_wrk(
    wrk: str,
    url: str,
    seconds: float,
    *,
    connections: int,
    headers: dict[str, str] | None = None,
    niceness: int | None = None,
) -> Run:
    """One wrk run (one thread, whole seconds, at least one); `niceness` runs wrk at that
    priority."""
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    process = await asyncio.create_subprocess_exec(
        *argv,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=(lambda: os.nice(niceness)) if niceness is not None else None,
    )
    output, _ = await process.communicate()
    return parse_wrk(output.decode())


async def run_python(
    url: str,
    seconds: float,
    *,
    connections: int,
    headers: dict[str, str] | None = None,
    expect_status: int | None = None,
) -> Run:
    """Keep-alive GETs over `connections` asyncio connections: a stand-in for wrk, slower (it
    shares the machine's cores with what it measures), good enough to prove things work. An
    answer with another status than `expect_status` (any 2xx when None) counts as an error."""
    parts = httpx.URL(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = (
        f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n{extra}\r\n"
    ).encode()
    expected = f"HTTP/1.1 {expect_status if expect_status is not None else 2}".encode()
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
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    count = len(latencies)
    return Run(count, elapsed, pick(0.50), pick(0.99), unexpected, received / max(count, 1))


def median_run(runs: list[Run]) -> Run:
    """The run of median req/s, with the medians of the other figures (errors summed)."""
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
