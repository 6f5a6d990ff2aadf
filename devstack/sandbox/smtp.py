"""A stand-in for an SMTP relay: accepts every message (and any login) and keeps it, for people
and tests to read over HTTP.

    python -m devstack.sandbox.smtp --smtp-port 3991 --http-port 3992
    SMTP_HOST=127.0.0.1 SMTP_PORT=3991 SMTP_STARTTLS=false

`GET /messages` lists what arrived, newest first (`?to=` keeps those for one recipient);
`GET /messages/{id}` shows one with its headers, text and html parts and attachments;
`GET /messages/{id}/raw` is the message as sent; `DELETE /messages` forgets them all.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import uuid
import warnings
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Annotated, Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response

MAX_MESSAGES = 1000
log = logging.getLogger("devstack.sandbox.smtp")


class MailStore:
    """The last `limit` messages. The SMTP side runs in the Controller's thread and the HTTP
    side in the main one, hence the lock. A message is parsed when it is first read, not when
    it arrives: parsing is most of a sink's CPU, and most mail under load is never read."""

    def __init__(self, limit: int = MAX_MESSAGES) -> None:
        self._messages: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._messages.append(message)

    def list(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            messages = list(reversed(self._messages))
        if to:
            wanted = to.lower()
            messages = [m for m in messages if wanted in (r.lower() for r in m["rcpt_tos"])]
        return [self._parsed(m) for m in messages]

    def get(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = next((m for m in self._messages if m["id"] == message_id), None)
        return None if found is None else self._parsed(found)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def _parsed(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with its parsed fields, filled in once (a second reader finds them)."""
        with self._lock:
            if "_bytes" in record:
                record.update(parse_fields(record.pop("_bytes")))
        return record


def _addresses(message: EmailMessage, header: str) -> list[str]:
    return [addr for _, addr in getaddresses([str(v) for v in message.get_all(header, [])])]


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


def received(
    raw: bytes, mail_from: str, rcpt_tos: Sequence[str], login: str | None = None
) -> dict[str, Any]:
    """A message as it arrived: the envelope and the raw text, not yet parsed."""
    return {
        "id": uuid.uuid4().hex,
        "received_at": datetime.now(UTC).isoformat(),
        "mail_from": mail_from,
        "rcpt_tos": list(rcpt_tos),
        "login": login,
        "size": len(raw),
        "raw": raw.decode("utf-8", errors="replace"),
        "_bytes": raw,  # parsed (and dropped) on first read
    }


def parse_fields(raw: bytes) -> dict[str, Any]:
    """What a test asks of a sent mail: the decoded headers, the text and html bodies, the
    attachments. A message that does not parse is still kept, raw, with the reason."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        return {
            "from": str(message["From"] or ""),
            "to": _addresses(message, "To"),
            "cc": _addresses(message, "Cc"),
            "subject": str(message["Subject"] or ""),
            # Pairs, not a dict: headers such as Received repeat.
            "headers": [[name, str(value)] for name, value in message.items()],
            "text": _body(message, "plain"),
            "html": _body(message, "html"),
            "attachments": [
                {
                    "filename": part.get_filename(),
                    "content_type": part.get_content_type(),
                    "size": len(part.get_payload(decode=True) or b""),
                }
                for part in message.iter_attachments()
            ],
        }
    except Exception as exc:  # a sink must keep what it was given, parsed or not
        return {"parse_error": f"{type(exc).__name__}: {exc}", "subject": "", "headers": []}


class RecordingHandler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.store.add(received(raw, envelope.mail_from or "", envelope.rcpt_tos, login))
        log.info("mail to %s (%d bytes)", ", ".join(envelope.rcpt_tos), len(raw))
        return "250 Message accepted for delivery"


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Services configured with SMTP_USERNAME/SMTP_PASSWORD log in; the sink lets them."""
    return AuthResult(success=True, auth_data=auth_data)


_SUMMARY = ("id", "received_at", "mail_from", "rcpt_tos", "from", "to", "subject", "size")


def create_app(store: MailStore | None = None) -> FastAPI:
    store = store or MailStore()
    app = FastAPI(title="SMTP sandbox", description=__doc__)
    app.state.mail = store

    def not_found(message_id: str) -> JSONResponse:
        return JSONResponse(
            {"title": "Not found", "status": 404, "detail": f"no message {message_id}"},
            status_code=404,
            media_type="application/problem+json",
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/messages")
    async def list_messages(
        to: Annotated[str | None, Query(description="only messages for this recipient")] = None,
    ) -> dict[str, Any]:
        """Newest first, without bodies."""
        return {"messages": [{k: m.get(k) for k in _SUMMARY} for m in store.list(to)]}

    @app.get("/messages/{message_id}", response_model=None)
    async def get_message(message_id: str) -> dict[str, Any] | JSONResponse:
        message = store.get(message_id)
        if message is None:
            return not_found(message_id)
        return {k: v for k, v in message.items() if k != "raw"}

    @app.get("/messages/{message_id}/raw", response_model=None)
    async def get_raw(message_id: str) -> Response:
        message = store.get(message_id)
        if message is None:
            return not_found(message_id)
        return Response(message["raw"], media_type="message/rfc822")

    @app.delete("/messages", status_code=204)
    async def clear() -> Response:
        store.clear()
        return Response(status_code=204)

    return app


async def serve(host: str, smtp_port: int, http_port: int) -> None:
    store = MailStore()
    controller = Controller(
        RecordingHandler(store),
        hostname=host,
        port=smtp_port,
        ready_timeout=10,
        decode_data=False,
        enable_SMTPUTF8=True,
        authenticator=accept_any_login,
        auth_require_tls=False,
    )
    controller.start()  # its own thread and event loop
    log.info("SMTP on %s:%d, messages at http://%s:%d/messages", host, smtp_port, host, http_port)
    try:
        config = uvicorn.Config(create_app(store), host=host, port=http_port, log_level="warning")
        await uvicorn.Server(config).serve()
    finally:
        controller.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.sandbox.smtp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=3991)
    parser.add_argument("--http-port", type=int, default=3992)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # aiosmtpd narrates every SMTP command at INFO, and warns about its own legacy attribute.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
    asyncio.run(serve(args.host, args.smtp_port, args.http_port))


if __name__ == "__main__":
    main()
