"""Runs the fleet's processes: each in its own process group, its output prefixed with its name,
restarted with backoff when it crashes, and terminated (then killed) on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devstack.console import Console

# A JSON log line carrying a traceback is long; asyncio's default 64 KiB limit would break it.
OUTPUT_LINE_LIMIT = 1 << 20
_PR_SET_PDEATHSIG = 1

# Resolved once, before any fork: the child may only make a plain C call between fork and exec.
_prctl = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        _prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent() -> None:
    """Runs in the child between fork and exec. The kernel sends it SIGTERM when the supervisor
    dies, even by SIGKILL: the children live in their own process groups (so a Ctrl-C reaches
    only the supervisor, which stops them in order) and would otherwise be orphaned."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "could not start"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    kind: str = "service"  # service | worker | sandbox
    port: int | None = None
    url: str | None = None
    docs_url: str | None = None
    ready_url: str | None = None
    health_url: str | None = None


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 0.5
    max_delay: float = 15.0
    # A process that stayed up this long was healthy: its next crash starts the count again.
    stable_after: float = 30.0
    # This many crashes in a row, each soon after starting, means it cannot start: stop trying.
    max_quick_crashes: int = 5

    def delay(self, crashes: int) -> float:
        return min(self.first_delay * 2 ** (crashes - 1), self.max_delay)


@dataclass
class Child:
    spec: ProcessSpec
    policy: RestartPolicy
    console: Console
    on_change: Callable[[], None]
    status: str = "starting"  # starting | running | restarting | gave up | stopped
    pid: int | None = None
    started_at: float | None = None
    restarts: int = 0
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"supervise {self.name}")

    async def stop(self, grace: float) -> None:
        self._stopping.set()
        self._signal(signal.SIGTERM)
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self.console.warn(f"{self.name} did not stop within {grace:g}s; killing it")
                self._signal(signal.SIGKILL)
                await self._task
        self.status = "stopped"

    def kill(self) -> None:
        self._stopping.set()
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is not None and self._process.returncode is None:
            signal_group(self._process.pid, sig)

    def _set(self, status: str) -> None:
        self.status = status
        self.on_change()

    async def _supervise(self) -> None:
        crashes = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            code = await self._run_once()
            if self._stopping.is_set():
                break
            uptime = time.monotonic() - started
            crashes = crashes + 1 if uptime < self.policy.stable_after else 1
            if crashes >= self.policy.max_quick_crashes:
                self._set("gave up")
                self.console.error(
                    f"{self.name} {describe_exit(code)}; it failed {crashes} times in a row, each "
                    f"within {self.policy.stable_after:.0f}s of starting. Giving up on it; the "
                    "rest of the fleet keeps running. Fix it, then restart `webrana up`."
                )
                return
            delay = self.policy.delay(crashes)
            self._set("restarting")
            self.console.warn(
                f"{self.name} {describe_exit(code)} after {uptime:.1f}s; "
                f"restarting in {delay:.1f}s (attempt {crashes + 1})"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            self.restarts += 1

    async def _run_once(self) -> int | None:
        spec = self.spec
        try:
            process = await asyncio.create_subprocess_exec(
                *spec.argv,
                env=dict(spec.env),
                cwd=spec.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
                limit=OUTPUT_LINE_LIMIT,
            )
        except OSError as exc:
            self.console.error(f"{self.name}: {exc}")
            return None
        self._process = process
        self.pid = process.pid
        self.started_at = time.time()
        self._set("running")
        if self._stopping.is_set():  # stop() came while the process was being created
            self._signal(signal.SIGTERM)
        assert process.stdout is not None
        pump = asyncio.create_task(self._pump(process.stdout))
        code = await process.wait()
        # Whatever else is left in its group (it may have forked) goes with it.
        signal_group(process.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pump, 5)
        return code

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the limit: show it in pieces
                raw = await stream.read(OUTPUT_LINE_LIMIT)
            if not raw:
                return
            self.console.child_line(self.name, raw.decode(errors="replace").rstrip("\r\n"))


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        console: Console,
        on_change: Callable[[], None] = lambda: None,
        policy: RestartPolicy | None = None,
    ) -> None:
        policy = policy or RestartPolicy()
        self.children = [Child(spec, policy, console, on_change) for spec in specs]
        console.register([spec.name for spec in specs])

    def start(self) -> None:
        for child in self.children:
            child.start()

    async def stop(self, grace: float = 10.0) -> None:
        await asyncio.gather(*(child.stop(grace) for child in self.children))

    def kill(self) -> None:
        """The impatient path (a second Ctrl-C): SIGKILL every group now."""
        for child in self.children:
            child.kill()


async def run_to_completion(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path
) -> tuple[int, str]:
    """A one-shot command (a migration) whose output is kept and shown only if it fails. It gets
    its own group too, and is killed if the caller is cancelled (Ctrl-C during `webrana up`)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        signal_group(process.pid, signal.SIGKILL)
        await process.wait()
        raise
    return process.returncode or 0, output.decode(errors="replace")
