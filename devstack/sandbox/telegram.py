"""A stand-in for the Telegram Bot API: the methods the notification service's bot calls, on
the real wire format, recording what was sent, failing on command, and playing the user.

    uvicorn --factory devstack.sandbox.telegram:create_app --port 3996
    TELEGRAM_API_URL=http://127.0.0.1:3996 (the bot calls <url>/bot<token>/<method>)

Bot API, `GET|POST /bot<token>/<method>` with query, form, JSON or multipart parameters:
`getMe`, `sendMessage` (HTML parse mode checked as Telegram does: known tags only, balanced,
at most 4096 characters after parsing), `setWebhook`, `deleteWebhook`, `getWebhookInfo`,
`getUpdates`. Errors use real HTTP codes and bodies: 401 for a wrong token, 404 for an unknown
method, 400/403/429 as below.

Control over HTTP (JSON):

* `GET /sandbox/messages?chat_id=` what the bot sent, oldest first; `DELETE /sandbox/messages`;
* `PUT /sandbox/chats/{chat_id}` `{"fail": "blocked" | "deactivated" | "not_found" |
  "rate_limited" | "server_error", "retry_after": 5, "times": 2}` makes sends to that chat fail
  (403 "Forbidden: bot was blocked by the user", 429 with `parameters.retry_after`, ...),
  `times` times or until `DELETE /sandbox/chats/{chat_id}`;
* `POST /sandbox/updates` `{"chat_id": 555, "text": "/start <token>", "first_name": "Budi",
  "language_code": "id"}` plays the user: the Update goes to the webhook set with `setWebhook`
  (with `X-Telegram-Bot-Api-Secret-Token`), or waits for `getUpdates`; `{"chat_id": 555,
  "block": true}` sends the `my_chat_member` update of a user blocking the bot (and blocks
  the chat);
* `GET /sandbox/webhook`, `GET /sandbox/calls` (every Bot API call), `POST /sandbox/reset`.

Settings (environment): `TELEGRAM_BOT_TOKEN` (only that token is accepted; unset: any token of
the right shape), `TELEGRAM_BOT_USERNAME`, and `TELEGRAM_WEBHOOK_URL` + `TELEGRAM_WEBHOOK_SECRET`
for a webhook that is set from the start.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_TEXT = 4096
# Tags (and their attributes) the HTML parse mode accepts.
ALLOWED_TAGS: dict[str, set[str]] = {
    **{tag: set() for tag in ("b", "strong", "i", "em", "u", "ins", "s", "strike", "del")},
    **{tag: set() for tag in ("tg-spoiler", "pre")},
    "span": {"class"},
    "a": {"href"},
    "code": {"class"},
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
NAMED_ENTITIES = {"lt", "gt", "amp", "quot"}
# Parameters sent JSON-encoded in form bodies (python-telegram-bot encodes non-strings so).
JSON_PARAMS = {
    "reply_markup",
    "link_preview_options",
    "entities",
    "allowed_updates",
    "reply_parameters",
}
FAILURES: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "not_found": (400, "Bad Request: chat not found"),
    "server_error": (500, "Internal Server Error"),
}


class EntityError(ValueError):
    pass


class _HtmlChecker(HTMLParser):
    """What Telegram's parser refuses, and the text it leaves after parsing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityError(f'Unsupported start tag "{tag}"')
        for name, _ in attrs:
            if name not in ALLOWED_TAGS[tag]:
                raise EntityError(f'Unsupported attribute "{name}" of tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise EntityError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise EntityError(f'Unsupported HTML entity "&{name};"')
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))


def parse_html(text: str) -> str:
    """The visible text of an HTML-mode message; EntityError where Telegram would refuse it."""
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{checker.open[-1]}"')
    return "".join(checker.text)


@dataclass
class ChatControl:
    fail: str
    retry_after: int = 5
    times: int | None = None  # None: until cleared


@dataclass
class Sandbox:
    token: str | None
    username: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    chats: dict[int, ChatControl] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 100_000
    next_message_id: int = 1
    update_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def bot_user(self, token: str | None = None) -> dict[str, Any]:
        """The bot's User: its id is the number before the token's colon, as on Telegram."""
        bot_id = int((token or self.token or "1:x").split(":", 1)[0])
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": "WeBrana Sandbox",
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def reset(self) -> None:
        self.messages.clear()
        self.calls.clear()
        self.chats.clear()
        self.updates.clear()


def _error(status: int, description: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description, **extra},
        status_code=status,
    )


def _ok(result: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result, **extra})


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif "application/x-www-form-urlencoded" in content_type:
        params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    elif "multipart/form-data" in content_type:
        params.update(_multipart(await request.body(), content_type))
    for name in JSON_PARAMS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except ValueError:
                pass
    return params


def _multipart(body: bytes, content_type: str) -> dict[str, str]:
    """Text fields of a multipart body (files are not kept): the standard library's parser, so
    the stand-in needs no python-multipart."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name and part.get_filename() is None:
            fields[str(name)] = (
                part.get_content()
                if part.get_content_maintype() == "text"
                else (part.get_payload(decode=True) or b"").decode()
            )
    return fields


def _chat_id(raw: Any) -> int | str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw)
    return int(text) if re.fullmatch(r"-?\d+", text) else text


class ChatControlRequest(BaseModel):
    fail: Literal["blocked", "deactivated", "not_found", "rate_limited", "server_error"]
    retry_after: int = Field(default=5, ge=1, le=3600)
    times: int | None = Field(default=None, ge=1)


class UserUpdate(BaseModel):
    chat_id: int
    text: str | None = None
    first_name: str = "Budi"
    username: str | None = None
    language_code: str | None = "id"
    block: bool = False


def create_app() -> FastAPI:
    sandbox = Sandbox(
        token=os.environ.get("TELEGRAM_BOT_TOKEN") or None,
        username=os.environ.get("TELEGRAM_BOT_USERNAME", "WeBranaCloudBot").removeprefix("@"),
        webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL") or None,
        webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET") or None,
    )
    app = FastAPI(title="Telegram Bot API sandbox", description=__doc__)
    app.state.sandbox = sandbox

    def send_message(params: dict[str, Any], token: str) -> JSONResponse:
        chat_id = _chat_id(params.get("chat_id"))
        if chat_id is None:
            return _error(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not text:
            return _error(400, "Bad Request: message text is empty")
        visible = str(text)
        if str(params.get("parse_mode", "")).upper() == "HTML":
            try:
                visible = parse_html(str(text))
            except EntityError as exc:
                return _error(400, f"Bad Request: can't parse entities: {exc}")
        if not visible.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(visible) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        control = sandbox.chats.get(chat_id) if isinstance(chat_id, int) else None
        if control is not None:
            if control.times is not None:
                control.times -= 1
                if control.times <= 0:
                    del sandbox.chats[chat_id]  # type: ignore[arg-type]
            if control.fail == "rate_limited":
                return _error(
                    429,
                    f"Too Many Requests: retry after {control.retry_after}",
                    parameters={"retry_after": control.retry_after},
                )
            status, description = FAILURES[control.fail]
            return _error(status, description)
        message_id = sandbox.next_message_id
        sandbox.next_message_id += 1
        date = int(time.time())
        chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
        sandbox.messages.append(
            {
                "message_id": message_id,
                "chat_id": chat_id,
                "date": date,
                "text": text,
                "visible_text": visible,
                "parse_mode": params.get("parse_mode"),
                "reply_markup": params.get("reply_markup"),
                "link_preview_options": params.get("link_preview_options"),
            }
        )
        return _ok(
            {
                "message_id": message_id,
                "date": date,
                "chat": {"id": chat_id, "type": chat_type},
                "from": sandbox.bot_user(token),
                "text": visible,
            }
        )

    def set_webhook(params: dict[str, Any], _token: str) -> JSONResponse:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_SHAPE.fullmatch(str(secret)):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            return _error(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        sandbox.webhook_url = url or None
        sandbox.webhook_secret = str(secret) if secret and url else None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            sandbox.updates.clear()
        return _ok(True, description="Webhook was set" if url else "Webhook was deleted")

    def delete_webhook(params: dict[str, Any], _token: str) -> JSONResponse:
        sandbox.webhook_url = sandbox.webhook_secret = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            sandbox.updates.clear()
        return _ok(True, description="Webhook was deleted")

    def webhook_info(_params: dict[str, Any], _token: str) -> JSONResponse:
        return _ok(
            {
                "url": sandbox.webhook_url or "",
                "has_custom_certificate": False,
                "pending_update_count": len(sandbox.updates),
            }
        )

    async def get_updates(params: dict[str, Any]) -> JSONResponse:
        if sandbox.webhook_url:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        if offset:
            # Asking from `offset` confirms everything before it.
            sandbox.updates[:] = [u for u in sandbox.updates if u["update_id"] >= offset]
        if not sandbox.updates and float(params.get("timeout") or 0) > 0:
            sandbox.update_arrived.clear()
            try:
                await asyncio.wait_for(
                    sandbox.update_arrived.wait(), min(float(params["timeout"]), 30.0)
                )
            except TimeoutError:
                pass
        return _ok(sandbox.updates[:limit])

    methods = {
        "getme": lambda _params, token: _ok(sandbox.bot_user(token)),
        "sendmessage": send_message,
        "setwebhook": set_webhook,
        "deletewebhook": delete_webhook,
        "getwebhookinfo": webhook_info,
    }

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/bot{token}/{method}", methods=["GET", "POST"], include_in_schema=False)
    async def bot_api(token: str, method: str, request: Request) -> Response:
        if not TOKEN_SHAPE.fullmatch(token) or (sandbox.token and token != sandbox.token):
            return _error(401, "Unauthorized")
        params = await _params(request)
        sandbox.calls.append({"method": method, "params": params, "at": time.time()})
        name = method.lower()
        if name == "getupdates":
            return await get_updates(params)
        handler = methods.get(name)
        if handler is None:
            return _error(404, "Not Found")
        return handler(params, token)

    @app.get("/sandbox/messages")
    async def list_messages(chat_id: int | None = None) -> dict[str, Any]:
        """What the bot sent, oldest first."""
        return {
            "messages": [m for m in sandbox.messages if chat_id is None or m["chat_id"] == chat_id]
        }

    @app.delete("/sandbox/messages", status_code=204)
    async def clear_messages() -> Response:
        sandbox.messages.clear()
        return Response(status_code=204)

    @app.get("/sandbox/chats")
    async def list_chats() -> dict[str, Any]:
        return {"chats": {str(k): v.__dict__ for k, v in sandbox.chats.items()}}

    @app.put("/sandbox/chats/{chat_id}")
    async def control_chat(chat_id: int, body: ChatControlRequest) -> dict[str, Any]:
        sandbox.chats[chat_id] = ChatControl(body.fail, body.retry_after, body.times)
        return {"chat_id": chat_id, **sandbox.chats[chat_id].__dict__}

    @app.delete("/sandbox/chats/{chat_id}", status_code=204)
    async def release_chat(chat_id: int) -> Response:
        sandbox.chats.pop(chat_id, None)
        return Response(status_code=204)

    @app.get("/sandbox/calls")
    async def list_calls() -> dict[str, Any]:
        return {"calls": sandbox.calls}

    @app.get("/sandbox/webhook")
    async def webhook() -> dict[str, Any]:
        return {"url": sandbox.webhook_url, "has_secret": sandbox.webhook_secret is not None}

    @app.post("/sandbox/reset", status_code=204)
    async def reset() -> Response:
        sandbox.reset()
        return Response(status_code=204)

    @app.post("/sandbox/updates")
    async def post_update(body: UserUpdate) -> JSONResponse:
        """Play the user: the Update goes to the webhook, or waits for getUpdates."""
        update = _user_update(sandbox, body)
        if body.block:
            sandbox.chats[body.chat_id] = ChatControl("blocked")
        if not sandbox.webhook_url:
            sandbox.updates.append(update)
            sandbox.update_arrived.set()
            return JSONResponse({"update": update, "delivered": False, "queued": True}, 202)
        headers = {}
        if sandbox.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = sandbox.webhook_secret
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                response = await client.post(sandbox.webhook_url, json=update, headers=headers)
        except httpx.HTTPError as exc:
            return JSONResponse(
                {"update": update, "delivered": False, "error": f"{type(exc).__name__}: {exc}"},
                status_code=502,
            )
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        return JSONResponse(
            {
                "update": update,
                "delivered": response.is_success,
                "status": response.status_code,
                "response": answer,
            }
        )

    return app


def _user_update(sandbox: Sandbox, body: UserUpdate) -> dict[str, Any]:
    update_id = sandbox.next_update_id
    sandbox.next_update_id += 1
    user = {"id": body.chat_id, "is_bot": False, "first_name": body.first_name}
    if body.username:
        user["username"] = body.username
    if body.language_code:
        user["language_code"] = body.language_code
    chat = {"id": body.chat_id, "type": "private", "first_name": body.first_name}
    now = int(time.time())
    if body.block:
        return {
            "update_id": update_id,
            "my_chat_member": {
                "chat": chat,
                "from": user,
                "date": now,
                "old_chat_member": {"status": "member", "user": sandbox.bot_user()},
                "new_chat_member": {
                    "status": "kicked",
                    "user": sandbox.bot_user(),
                    "until_date": 0,
                },
            },
        }
    text = body.text or ""
    message: dict[str, Any] = {
        "message_id": sandbox.next_message_id,
        "date": now,
        "chat": chat,
        "from": user,
        "text": text,
    }
    sandbox.next_message_id += 1
    command = re.match(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        # Without this entity python-telegram-bot's CommandHandler ignores the message.
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
    return {"update_id": update_id, "message": message}
