"""Telegram's HTML parse mode: which tags it accepts, and messages cut to its length limit.

Telegram counts the text *after* entity parsing (tags removed, `&amp;` one character) and
refuses more than 4096 characters. Templates keep every tag on one line, so a message can be
cut between lines without ever splitting a tag.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

MAX_LENGTH = 4096
# Keep a margin below the limit, as Telegram's own advice for generated text goes.
TARGET_LENGTH = 4000
ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_TAG = re.compile(r"<[^>]*>")
ELLIPSIS = "…"


def visible_text(message: str) -> str:
    return html.unescape(_TAG.sub("", message))


def visible_length(message: str) -> int:
    return len(visible_text(message))


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.open: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.balanced = False


def disallowed_markup(message: str) -> list[str]:
    """What Telegram would refuse: unknown tags, unknown attributes, unbalanced tags."""
    parser = _TagCollector()
    parser.feed(message)
    parser.close()
    problems = [f"<{tag}>" for tag, _ in parser.tags if tag not in ALLOWED_TAGS]
    for tag, attrs in parser.tags:
        allowed = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "tg-emoji": {"emoji-id"}}
        allowed["blockquote"] = {"expandable"}
        problems += [f"<{tag} {name}>" for name, _ in attrs if name not in allowed.get(tag, ())]
    if not parser.balanced or parser.open:
        problems.append("unbalanced tags")
    return problems


def _cut_plain_line(line: str, room: int) -> str:
    """A line without tags, shortened to `room` visible characters (entities kept whole)."""
    text = visible_text(line)
    return html.escape(text[: max(0, room - 1)], quote=False) + ELLIPSIS


def fit_telegram(message: str, limit: int = TARGET_LENGTH) -> str:
    if visible_length(message) <= limit:
        return message
    kept: list[str] = []
    used = 0
    for line in message.split("\n"):
        size = visible_length(line) + (1 if kept else 0)
        if used + size <= limit - 1:
            kept.append(line)
            used += size
            continue
        room = limit - used - (1 if kept else 0)
        if not _TAG.search(line) and room > 1:
            kept.append(_cut_plain_line(line, room))
        elif kept:
            kept[-1] += ELLIPSIS
        else:
            kept.append(ELLIPSIS)
        break
    return "\n".join(kept)
