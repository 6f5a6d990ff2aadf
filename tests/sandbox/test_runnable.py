"""`uvicorn --factory devstack.sandbox.<provider>:create_app` starts each stand-in, configured
from its environment, at the base URL the provider service is given."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
STAND_INS = {
    "digitalocean": ("DIGITALOCEAN_SANDBOX_TOKEN", "/v2/droplets"),
    "vultr": ("VULTR_SANDBOX_TOKEN", "/v2/instances"),
    "linode": ("LINODE_SANDBOX_TOKEN", "/v4/linode/instances"),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_each_stand_in_runs_under_uvicorn_with_its_env_token():
    env = {**os.environ, **{var: f"{name}-secret" for name, (var, _) in STAND_INS.items()}}
    running = {}
    try:
        for name in STAND_INS:
            port = _free_port()
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"devstack.sandbox.{name}:create_app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            running[name] = (subprocess.Popen(command, cwd=REPO_ROOT, env=env), port)
        for name, (process, port) in running.items():
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{base}/health", trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, name
                time.sleep(0.05)
            path = STAND_INS[name][1]
            wrong = httpx.get(base + path, headers=bearer("nope"), trust_env=False)
            right = httpx.get(base + path, headers=bearer(f"{name}-secret"), trust_env=False)
            assert (wrong.status_code, right.status_code) == (401, 200), name
    finally:
        for process, _ in running.values():
            process.terminate()
        for process, _ in running.values():
            process.wait(timeout=10)
