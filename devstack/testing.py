"""A fleet for fleet-level test suites (tests/e2e, tests/security, tests/perf): started the way a
developer starts one (`webrana up`, a real process), in a home of its own and with every port
shifted, so it runs beside a developer's fleet."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from devstack.fleet import REDIS_PORT, SANDBOX_PORTS, SERVICE_PORTS
from devstack.home import REPO_ROOT

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_offset() -> int:
    """A random offset whose ports are all free, kept below Linux's ephemeral range (32768+)
    where outgoing connections could take one of them meanwhile."""
    base_ports = [*SERVICE_PORTS.values(), *SANDBOX_PORTS.values(), REDIS_PORT]
    for _ in range(20):
        offset = random.randrange(10_000, 27_000, 10)
        if all(_port_free(port + offset) for port in base_ports):
            return offset
    raise RuntimeError("no free port range found")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Fleet:
    """`webrana up` in `home` with every port shifted by `offset`; its output is collected."""

    def __init__(self, home: Path, offset: int) -> None:
        self.home = home
        self.offset = offset
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._new_line = threading.Condition()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        return env | {"WEBRANA_HOME": str(self.home), "NO_COLOR": "1"}

    @staticmethod
    def http() -> httpx.Client:
        return httpx.Client(timeout=5, trust_env=False)

    def webrana(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "devstack", *args],
            env=self.env(),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> None:
        """Start `webrana up` and return once it printed its summary table."""
        assert self.process is None or self.process.poll() is not None
        self.lines = []
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "devstack", "up", "--port-offset", str(self.offset), *args],
            env=self.env(),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own session, so that a signal sent here reaches it alone (a terminal's Ctrl-C
            # would reach its whole group) and pytest's own signals never reach it.
            start_new_session=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        self.wait_for(r"^\* fleet up in", START_TIMEOUT)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = after
        with self._new_line:
            while True:
                for line in self.lines[seen:]:
                    if match := regex.search(line):
                        return match
                seen = len(self.lines)
                exited = self.process is not None and self.process.poll() is not None
                if exited or time.monotonic() > deadline:
                    raise AssertionError(
                        f"no line matching {pattern!r}; output:\n" + "\n".join(self.lines[-80:])
                    )
                self._new_line.wait(0.5)

    def printed_url(self, name: str) -> str:
        """The URL the summary table prints for `name`."""
        return self.wait_for(rf"^\s+{re.escape(name)}\s+(http://\S+)\s", 1).group(1)

    def state(self) -> dict[str, Any]:
        return json.loads((self.home / "state.json").read_text())

    def redis_url(self, db: int) -> str:
        return self.state()["redis"]["url"].rsplit("/", 1)[0] + f"/{db}"

    def database_url(self, service: str) -> str:
        return str(self.state()["postgres"]["databases"][service])

    def child(self, name: str) -> dict[str, Any]:
        return next(p for p in self.state()["processes"] if p["name"] == name)

    def processes(self) -> list[psutil.Process]:
        """Every process this fleet runs: `webrana up` and its descendants, the PostgreSQL
        server (pg_ctl detaches it) with its backends, and anything naming the home."""
        found: dict[int, psutil.Process] = {}
        roots = [self.process.pid] if self.process else []
        postmaster = self.state()["postgres"]["pid"]
        roots += [postmaster] if postmaster else []
        for pid in roots:
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    found[process.pid] = process
            except psutil.NoSuchProcess:
                pass
        found |= {p.pid: p for p in processes_naming(self.home)}
        return list(found.values())

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        return self.process.wait(STOP_TIMEOUT)

    def kill(self) -> None:
        """For a test that failed half way: no process of this fleet may outlive the suite."""
        victims = self.processes() if (self.home / "state.json").exists() else []
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for process in victims:
            with contextlib.suppress(psutil.Error):
                process.kill()


def processes_naming(path: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(path) in cmdline and process.pid != os.getpid():
            found.append(process)
    return found


def still_running(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{process.pid} {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return alive
