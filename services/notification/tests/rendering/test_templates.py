"""Every event renders in every locale for every channel with nothing but its contract's data;
data arrives inert; Telegram gets only tags it accepts, within its length limit."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from jinja2 import UndefinedError, meta

from notification_service.contracts import (
    EVENTS,
    Category,
    NotificationEvent,
    Priority,
    validate_data,
)
from notification_service.rendering.renderer import LOCALES, TEMPLATES_DIR, Renderer
from notification_service.rendering.telegram_html import (
    MAX_LENGTH,
    disallowed_markup,
    fit_telegram,
    visible_length,
)

BASE = "https://app.webrana.test"
XSS = "<script>alert('x')</script>"
CASES = [(event, locale) for event in NotificationEvent for locale in LOCALES]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(BASE)


def _minimal(event: NotificationEvent) -> dict:
    """The sample without its optional fields: templates must cope with both."""
    spec = EVENTS[event]
    required = {name for name, f in spec.data.model_fields.items() if f.is_required()}
    return {k: v for k, v in (spec.sample or {}).items() if k in required}


def test_every_event_has_a_category_a_priority_a_sample_and_templates() -> None:
    assert set(EVENTS) == set(NotificationEvent)
    for event, spec in EVENTS.items():
        assert spec.category in Category and spec.priority in Priority
        assert spec.sample, event
        validate_data(event, spec.sample)
        for locale in LOCALES:
            for kind in ("txt", "html"):
                assert (TEMPLATES_DIR / locale / f"{event}.{kind}").is_file(), (event, kind)


@pytest.mark.parametrize(("event", "locale"), CASES)
def test_renders_with_full_and_minimal_data(
    renderer: Renderer, event: NotificationEvent, locale: str
) -> None:
    for data in (EVENTS[event].sample, _minimal(event)):
        parsed = validate_data(event, data)
        in_app = renderer.in_app(event, locale, parsed)
        email = renderer.email(event, locale, parsed, recipient_name="Budi", unsubscribe_url=None)
        telegram = renderer.telegram(event, locale, parsed)
        assert in_app.title and in_app.message and "\n" not in in_app.title
        assert email.subject and "\n" not in email.subject
        assert "Budi" in email.text and "Budi" in email.html
        assert email.html.lstrip().startswith("<!DOCTYPE html>")
        assert not disallowed_markup(telegram), (event, locale, disallowed_markup(telegram))
        assert 0 < visible_length(telegram) <= MAX_LENGTH
        # Nothing of Jinja's syntax leaks into a customer's message.
        for text in (in_app.title, in_app.message, email.text, email.html, telegram):
            assert "{{" not in text and "{%" not in text


CONTEXT = {"event", "category", "locale", "base_url", "recipient_name", "unsubscribe_url"}
CONTEXT |= {"action_url", "action_label", "subject"}


def _render_everything(renderer: Renderer, event: NotificationEvent, context: dict) -> None:
    """Every block of both files of an event, and both whole files, with `context` as is."""
    for locale in LOCALES:
        for kind in ("txt", "html"):
            template = renderer.env.get_template(f"{locale}/{event}.{kind}")
            template.render(context)
            for name in template.blocks:
                renderer._block(template, name, context)


@pytest.mark.parametrize("event", list(NotificationEvent))
def test_templates_name_only_contract_fields(renderer: Renderer, event: NotificationEvent) -> None:
    """Read from the sources, so a field used only in a branch the samples miss counts too."""
    fields = set(EVENTS[event].data.model_fields)
    for locale in LOCALES:
        for kind in ("txt", "html"):
            source = (TEMPLATES_DIR / locale / f"{event}.{kind}").read_text()
            names = meta.find_undeclared_variables(renderer.env.parse(source))
            assert names <= fields | CONTEXT, (locale, kind, names - fields - CONTEXT)


@pytest.mark.parametrize("event", list(NotificationEvent))
def test_a_missing_variable_is_an_error_not_a_blank(
    renderer: Renderer, event: NotificationEvent
) -> None:
    spec = EVENTS[event]
    full = {
        **validate_data(event, spec.sample).model_dump(),
        **dict.fromkeys(CONTEXT, "x"),
        "locale": "id",
        "unsubscribe_url": None,
    }
    _render_everything(renderer, event, full)
    used = set()
    for locale in LOCALES:
        for kind in ("txt", "html"):
            source = (TEMPLATES_DIR / locale / f"{event}.{kind}").read_text()
            used |= meta.find_undeclared_variables(renderer.env.parse(source))
    for name in sorted(used & set(spec.data.model_fields)):
        with pytest.raises(UndefinedError):
            _render_everything(renderer, event, {k: v for k, v in full.items() if k != name})


def test_strict_undefined_is_on(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.env.from_string("{{ nope }}").render()


def test_script_in_data_arrives_inert_in_html_and_telegram(renderer: Renderer) -> None:
    data = validate_data(
        NotificationEvent.VPS_SUSPENDED,
        {**EVENTS[NotificationEvent.VPS_SUSPENDED].sample, "hostname": XSS, "reason": XSS},
    )
    email = renderer.email(NotificationEvent.VPS_SUSPENDED, "id", data, recipient_name=XSS)
    telegram = renderer.telegram(NotificationEvent.VPS_SUSPENDED, "id", data)
    for markup in (email.html, telegram):
        assert "<script>" not in markup
        assert "&lt;script&gt;" in markup
    assert not disallowed_markup(telegram)
    # Plain text stays plain: escaping there would show "&lt;" to the reader.
    assert XSS in email.text


def test_english_for_en_indonesian_otherwise(renderer: Renderer) -> None:
    event = NotificationEvent.PAYMENT_CONFIRMED
    data = validate_data(event, EVENTS[event].sample)
    assert renderer.email(event, "en", data, recipient_name="Budi").subject.startswith("Payment")
    assert renderer.email(event, "id", data, recipient_name="Budi").subject.startswith("Pembayaran")
    assert renderer.in_app(event, "fr", data) == renderer.in_app(event, "id", data)
    assert "Rp 150.000" in renderer.in_app(event, "id", data).title
    # Times are shown in Jakarta time: 07:30 UTC is 14:30 WIB.
    assert "14.30 WIB" in renderer.email(event, "id", data, recipient_name="B").text
    assert "14:30 WIB" in renderer.email(event, "en", data, recipient_name="B").text


def test_links_of_the_web_app_are_absolute_in_mail_relative_in_app(renderer: Renderer) -> None:
    event = NotificationEvent.VPS_ACTIVE
    data = validate_data(event, EVENTS[event].sample)
    path = f"/instances/{EVENTS[event].sample['instance_id']}"
    assert renderer.in_app(event, "id", data).action_url == path
    assert f'href="{BASE}{path}"' in renderer.email(event, "id", data, recipient_name="B").html
    assert f'href="{BASE}{path}"' in renderer.telegram(event, "id", data)


def test_unsubscribe_link_appears_only_when_given(renderer: Renderer) -> None:
    event = NotificationEvent.SYSTEM_ANNOUNCEMENT
    data = validate_data(event, EVENTS[event].sample)
    with_link = renderer.email(event, "id", data, recipient_name="B", unsubscribe_url=f"{BASE}/u")
    assert f"{BASE}/u" in with_link.html and f"{BASE}/u" in with_link.text
    assert "/u" not in renderer.email(event, "id", data, recipient_name="B").text.split("--")[1]


def test_long_telegram_messages_are_cut_between_lines_within_the_limit(
    renderer: Renderer,
) -> None:
    body = "\n".join(f"baris {i} & <lain>" for i in range(600))
    event = NotificationEvent.SYSTEM_ANNOUNCEMENT
    data = validate_data(event, {"title": "Panjang", "body": body[:3000], "link": BASE})
    message = renderer.telegram(event, "id", data)
    assert visible_length(message) <= MAX_LENGTH
    assert not disallowed_markup(message)

    long_line = "<b>judul</b>\n" + "&amp;" * 5000
    cut = fit_telegram(long_line)
    assert visible_length(cut) <= 4000 and cut.endswith("…")
    assert not re.search(r"&[a-z]*…", cut)  # never inside an entity
    assert not disallowed_markup(cut)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)


def test_telegram_blocks_use_only_tags_telegram_accepts(renderer: Renderer) -> None:
    allowed = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}
    for event, locale in CASES:
        parser = _Tags()
        parser.feed(renderer.telegram(event, locale, validate_data(event, EVENTS[event].sample)))
        assert parser.tags <= allowed, (event, locale, parser.tags)
