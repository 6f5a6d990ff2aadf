"""The state file `webrana up` keeps in its home: what runs, under which pid, on which port.
`webrana status` reads it; the next `webrana up` uses it to clean up after one that was killed
(SIGKILL leaves no chance to stop embedded Redis)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil

from devstack.console import Console

State = dict[str, Any]


def write_state(path: Path, state: State) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)  # a reader never sees half a file


def read_state(path: Path) -> State | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def process_identity(pid: int | None) -> dict[str, Any] | None:
    """A pid plus its start time: enough to tell it from a later process given the same pid."""
    if pid is None:
        return None
    with contextlib.suppress(psutil.Error):
        return {"pid": pid, "create_time": psutil.Process(pid).create_time()}
    return None


def _process(identity: dict[str, Any] | None) -> psutil.Process | None:
    if not identity or not identity.get("pid"):
        return None
    try:
        process = psutil.Process(identity["pid"])
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        created = identity.get("create_time")
        if created is not None and abs(process.create_time() - created) > 1:
            return None  # the pid was reused
        return process
    except psutil.Error:
        return None


def is_alive(identity: dict[str, Any] | None) -> bool:
    return _process(identity) is not None


def supervisor_alive(state: State) -> bool:
    return is_alive(state.get("supervisor"))


def _redis_servers_in(folder: Path) -> list[psutil.Process]:
    """redis-server rewrites its command line (to "redis-server 127.0.0.1:3980"), but it runs
    in its `--dir`: that is how the one of a home is recognised, recorded in a state or not."""
    found = []
    for process in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error):
            if process.info["name"] == "redis-server" and Path(process.cwd()) == folder:
                found.append(process)
    return found


def kill_leftovers(state: State, redis_dir: Path, console: Console, timeout: float = 5.0) -> None:
    """Stop what a killed `webrana up` left behind: its children (if the kernel's parent-death
    signal missed any) and embedded Redis. Embedded PostgreSQL is re-attached, not killed."""
    victims: list[tuple[str, psutil.Process, bool]] = []
    for entry in state.get("processes", []):
        process = _process(entry)
        if process is not None:
            victims.append((entry["name"], process, True))
    victims += [("redis", process, False) for process in _redis_servers_in(redis_dir.resolve())]
    for name, process, group in victims:
        console.info(f"  stopping {name} (pid {process.pid}) left by a previous run")
        with contextlib.suppress(psutil.Error, OSError):
            if group:
                os.killpg(process.pid, signal.SIGTERM)
            else:
                process.terminate()
    deadline = time.monotonic() + timeout
    for _, process, group in victims:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except psutil.TimeoutExpired:
            with contextlib.suppress(psutil.Error, OSError):
                if group:
                    os.killpg(process.pid, signal.SIGKILL)
                else:
                    process.kill()
        except psutil.Error:
            pass
