"""What `webrana` prints: progress steps, child output prefixed with its name, tables."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

# ANSI colours handed out to child names in turn; red and bold are kept for errors.
_PALETTE = ("36", "32", "35", "33", "34", "96", "92", "95", "93", "94")
_LEVEL_COLOURS = {"warning": "33", "error": "31", "critical": "31;1", "debug": "2"}
# JSON log fields not worth a column when a person reads the stream.
_QUIET_FIELDS = {
    "ts", "service", "logger", "level", "message", "exc_info", "color_message", "asctime",
}  # fmt: skip


def _wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


class Console:
    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        colour: bool | None = None,
        raw_logs: bool = False,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.colour = _wants_colour(self.out) if colour is None else colour
        self.raw_logs = raw_logs
        self._width = 8
        self._colours: dict[str, str] = {}

    def paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def _write(self, stream: TextIO, text: str) -> None:
        # Flushed line by line: when stdout is a pipe (tests, `| tee`) block buffering would
        # hold back the table that tells a reader the fleet is up.
        stream.write(text + "\n")
        stream.flush()

    def info(self, text: str) -> None:
        self._write(self.out, text)

    def warn(self, text: str) -> None:
        self._write(self.err, self.paint("warning: ", "33;1") + text)

    def error(self, text: str) -> None:
        self._write(self.err, self.paint("error: ", "31;1") + text)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        self.info(self.paint("* ", "1") + what + " ...")
        started = time.monotonic()
        yield
        self.info(f"  {what}: done in {time.monotonic() - started:.1f}s")

    def register(self, names: Sequence[str]) -> None:
        """Fix the prefix width and each name's colour before the first line arrives."""
        self._width = max([self._width, *(len(n) for n in names)])
        for name in names:
            self._colours.setdefault(name, _PALETTE[len(self._colours) % len(_PALETTE)])

    def child_line(self, name: str, text: str) -> None:
        colour = self._colours.setdefault(name, _PALETTE[len(self._colours) % len(_PALETTE)])
        prefix = self.paint(f"{name:<{self._width}} |", colour)
        for line in [text] if self.raw_logs else render_log_line(text, self.paint):
            self._write(self.out, f"{prefix} {line}")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        for line in format_table(headers, rows):
            self.info(line)


def render_log_line(text: str, paint: Callable[[str, str], str] | None = None) -> list[str]:
    """The services log JSON (one object a line, for Loki); a person reads `LEVEL message k=v`.
    Anything that is not such an object is passed through untouched."""
    if not text.startswith("{"):
        return [text]
    try:
        entry = json.loads(text)
    except ValueError:
        return [text]
    if not isinstance(entry, dict) or "message" not in entry:
        return [text]
    level = str(entry.get("level", "info")).lower()
    extras = " ".join(
        f"{key}={value}"
        for key, value in entry.items()
        if key not in _QUIET_FIELDS and value not in (None, "")
    )
    label = f"{level.upper():<5}"
    if paint is not None and level in _LEVEL_COLOURS:
        label = paint(label, _LEVEL_COLOURS[level])
    head = f"{label} {entry['message']}" + (f"  {extras}" if extras else "")
    trace = str(entry.get("exc_info") or "")
    return [head, *trace.splitlines()]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]
