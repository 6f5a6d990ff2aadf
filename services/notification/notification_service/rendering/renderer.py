"""Jinja2 rendering of every event in every locale, for every channel.

Per locale and event there are two files in `templates/<locale>/`:

* `<EVENT>.txt` (no escaping): blocks `subject`, `title`, `message`, `action` (a path of the web
  app or an absolute URL; empty for none), `action_label`, and `text`, the plain-text mail body
  inside `_layout.txt`;
* `<EVENT>.html` (autoescaped): block `content`, the HTML mail body inside `_layout.html`, and
  block `telegram`, the Telegram message (HTML parse mode: only Telegram's tags).

Undefined variables raise (`StrictUndefined`): a template that names a field its event's
contract does not guarantee fails the template test instead of mailing a blank.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from notification_service.contracts import EVENTS, EventData, NotificationEvent
from notification_service.rendering.telegram_html import fit_telegram

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
JAKARTA = ZoneInfo("Asia/Jakarta")

_MONTHS = {
    "id": "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November "
    "Desember".split(),
    "en": "January February March April May June July August September October November "
    "December".split(),
}


def locale_for(user_locale: str | None) -> str:
    return "en" if user_locale == "en" else DEFAULT_LOCALE


def rupiah(amount: int) -> str:
    return "Rp " + f"{int(amount):,}".replace(",", ".")


@pass_context
def when(context: Context, value: datetime) -> str:
    """A moment as the customer reads it: Jakarta time, WIB."""
    local = value.astimezone(JAKARTA)
    month = _MONTHS[context["locale"]][local.month - 1]
    if context["locale"] == "en":
        return f"{local.day} {month} {local.year}, {local:%H:%M} WIB"
    return f"{local.day} {month} {local.year} pukul {local:%H.%M} WIB"


@pass_context
def day(context: Context, value: datetime) -> str:
    local = value.astimezone(JAKARTA)
    return f"{local.day} {_MONTHS[context['locale']][local.month - 1]} {local.year}"


@dataclass(frozen=True)
class InApp:
    title: str
    message: str
    action_url: str | None


@dataclass(frozen=True)
class Email:
    subject: str
    html: str
    text: str


def _one_line(text: str, limit: int) -> str:
    # Subjects and titles are single lines whatever the data holds (no header injection).
    return re.sub(r"\s+", " ", text).strip()[:limit]


@functools.cache
def environment() -> Environment:
    """One per process: templates are compiled once, whoever renders (the context carries
    everything that differs, such as the base URL)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("html",),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.filters |= {"rupiah": rupiah, "when": when, "day": day}
    return env


class Renderer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.env = environment()

    def _template(self, locale: str, event: NotificationEvent, kind: str) -> Template:
        return self.env.get_template(f"{locale_for(locale)}/{event}.{kind}")

    def _context(
        self, event: NotificationEvent, locale: str, data: EventData, **extra: Any
    ) -> dict[str, Any]:
        spec = EVENTS[event]
        return {
            **data.model_dump(),
            "event": str(event),
            "category": str(spec.category),
            "locale": locale_for(locale),
            "base_url": self.base_url,
            **extra,
        }

    @staticmethod
    def _block(template: Template, name: str, context: dict[str, Any]) -> str:
        return "".join(template.blocks[name](template.new_context(context))).strip()

    def _action(self, txt: Template, context: dict[str, Any]) -> tuple[str | None, str | None]:
        action = self._block(txt, "action", context) or None
        label = self._block(txt, "action_label", context) or None
        return action, label

    def absolute(self, action: str | None) -> str | None:
        if action and action.startswith("/"):
            return self.base_url + action
        return action

    def in_app(self, event: NotificationEvent, locale: str, data: EventData) -> InApp:
        """Plain text: clients show title and message as text, never as HTML."""
        txt = self._template(locale, event, "txt")
        context = self._context(event, locale, data)
        action, _ = self._action(txt, context)
        return InApp(
            title=_one_line(self._block(txt, "title", context), 300),
            message=self._block(txt, "message", context),
            action_url=action,
        )

    def email(
        self,
        event: NotificationEvent,
        locale: str,
        data: EventData,
        *,
        recipient_name: str,
        unsubscribe_url: str | None = None,
    ) -> Email:
        txt = self._template(locale, event, "txt")
        context = self._context(
            event, locale, data, recipient_name=recipient_name, unsubscribe_url=unsubscribe_url
        )
        action, label = self._action(txt, context)
        context |= {"action_url": self.absolute(action), "action_label": label}
        subject = _one_line(self._block(txt, "subject", context), 300)
        context["subject"] = subject
        return Email(
            subject=subject,
            html=self._template(locale, event, "html").render(context),
            text=txt.render(context).strip() + "\n",
        )

    def telegram(self, event: NotificationEvent, locale: str, data: EventData) -> str:
        html = self._template(locale, event, "html")
        context = self._context(event, locale, data)
        context["action_url"] = self.absolute(
            self._action(self._template(locale, event, "txt"), context)[0]
        )
        return fit_telegram(self._block(html, "telegram", context))
