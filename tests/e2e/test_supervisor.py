"""The supervisor on its own, with throwaway processes: backoff and giving up on a crash loop,
and a stop that leaves nothing of a process group behind."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from devstack.console import Console
from devstack.supervisor import ProcessSpec, RestartPolicy, Supervisor

FAST = RestartPolicy(first_delay=0.05, max_delay=0.2, stable_after=10, max_quick_crashes=3)


def _supervise(tmp_path: Path, code: str) -> tuple[Supervisor, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    spec = ProcessSpec(
        name="probe", argv=[sys.executable, "-c", code], env=dict(os.environ), cwd=tmp_path
    )
    return Supervisor([spec], Console(out=out, err=err, colour=False), policy=FAST), out, err


async def _until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_crash_loop_is_retried_with_backoff_then_given_up(tmp_path: Path) -> None:
    supervisor, out, err = _supervise(tmp_path, "print('boom'); raise SystemExit(3)")
    child = supervisor.children[0]

    supervisor.start()
    await _until(lambda: child.status == "gave up")
    await supervisor.stop()

    errors = err.getvalue()
    assert "probe exited with code 3 after" in errors
    assert "restarting in 0.1s (attempt 2)" in errors  # 0.05s, shown rounded
    assert "restarting in 0.1s (attempt 3)" in errors  # 0.1s: doubled
    assert "failed 3 times in a row" in errors and "Giving up" in errors
    assert child.restarts == 2
    assert out.getvalue().count("probe    | boom") == 3


async def test_stop_kills_the_group_of_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    code = (
        "import signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "grandchild = subprocess.Popen(['sleep', '60'])\n"
        "print('grandchild', grandchild.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    supervisor, out, err = _supervise(tmp_path, code)
    child = supervisor.children[0]
    supervisor.start()
    await _until(lambda: "grandchild" in out.getvalue())
    grandchild = int(out.getvalue().split("grandchild")[1].split()[0])
    pid = child.pid
    assert pid is not None

    started = time.monotonic()
    await supervisor.stop(grace=0.5)

    assert time.monotonic() - started < 5
    assert "probe did not stop within" in err.getvalue()
    await _until(lambda: _gone(pid) and _gone(grandchild), timeout=3)
    assert child.status == "stopped" and child.restarts == 0
