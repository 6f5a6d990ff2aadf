"""Where a fleet keeps its data: `.devstack/` at the repo root, or WEBRANA_HOME."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HOME_ENV = "WEBRANA_HOME"


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def jwt_keys(self) -> Path:
        return self.root / "keys"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.jwt_keys.mkdir(exist_ok=True)

    def wipe(self) -> None:
        """Remove what the fleet wrote, and only that: WEBRANA_HOME may point at a folder that
        holds other things, so the folder itself is never removed wholesale."""
        for path in (self.postgres, self.redis, self.jwt_keys):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.secrets_file, self.state_file):
            path.unlink(missing_ok=True)


def resolve_home(explicit: str | None = None) -> Home:
    raw = explicit or os.environ.get(HOME_ENV) or str(REPO_ROOT / ".devstack")
    return Home(Path(raw).expanduser().absolute())
