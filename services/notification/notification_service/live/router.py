"""`WS /api/v1/notifications/ws`: authenticated live notifications (see `protocol.py`).

The token comes in the first message or as `Sec-WebSocket-Protocol: bearer, <token>` (the
browser's `new WebSocket(url, ["bearer", token])`), never in the URL, where proxies and logs
would keep it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.websockets import WebSocket, WebSocketDisconnect

from notification_service.config import NotificationSettings
from notification_service.live import protocol, service
from notification_service.live.connection import LiveConnection
from notification_service.live.hub import LiveHub
from webrana_common.auth.jwt import JWKSVerifier, TokenClaims, TokenInvalid

router = APIRouter()
log = logging.getLogger("notification.live")
_URL_TOKEN_PARAMS = ("token", "access_token", "jwt", "bearer", "authorization")


class _Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close reason must fit in a control frame


def _parse(message: dict[str, Any]) -> dict[str, Any]:
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    try:
        body = json.loads(message.get("text") or message.get("bytes") or b"")
    except ValueError as exc:
        raise _Refused(protocol.CLOSE_BAD_REQUEST, "messages are JSON objects") from exc
    if not isinstance(body, dict):
        raise _Refused(protocol.CLOSE_BAD_REQUEST, "messages are JSON objects")
    return body


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


async def _verify(verifier: JWKSVerifier, token: Any) -> TokenClaims:
    if not isinstance(token, str) or not token:
        raise _Refused(protocol.CLOSE_UNAUTHORIZED, "token missing")
    try:
        claims = await verifier.verify(token)
        uuid.UUID(claims.sub)
    except TokenInvalid as exc:
        raise _Refused(protocol.CLOSE_UNAUTHORIZED, str(exc)) from exc
    except ValueError as exc:
        raise _Refused(protocol.CLOSE_UNAUTHORIZED, "token subject is not a user") from exc
    return claims


async def _authenticate(
    websocket: WebSocket, verifier: JWKSVerifier, wait_seconds: float
) -> tuple[TokenClaims, dict[str, Any]]:
    """Accept the socket, then the claims and the first message (`{}` with the header)."""
    offered = [p.strip() for p in websocket.scope.get("subprotocols") or []]
    if offered and offered[0].lower() == "bearer":
        await websocket.accept(subprotocol="bearer")  # never echo the token itself
        return await _verify(verifier, offered[1] if len(offered) > 1 else None), {}
    await websocket.accept()
    if any(name in websocket.query_params for name in _URL_TOKEN_PARAMS):
        raise _Refused(protocol.CLOSE_BAD_REQUEST, "never put the token in the URL")
    try:
        first = _parse(await asyncio.wait_for(websocket.receive(), wait_seconds))
    except TimeoutError as exc:
        raise _Refused(protocol.CLOSE_AUTH_TIMEOUT, "authenticate within the time limit") from exc
    if first.get("type") != "auth":
        raise _Refused(protocol.CLOSE_UNAUTHORIZED, "the first message must be an auth message")
    return await _verify(verifier, first.get("token")), first


@router.websocket("/api/v1/notifications/ws", name="notifications_ws")
async def notifications_ws(websocket: WebSocket) -> None:
    state = websocket.app.state
    settings: NotificationSettings = state.settings
    hub: LiveHub = state.hub
    try:
        claims, first = await _authenticate(
            websocket, state.jwt_verifier, settings.ws_auth_timeout_seconds
        )
    except _Refused as refused:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await websocket.close(refused.code, refused.reason)
        return
    except WebSocketDisconnect:
        return
    user_id = uuid.UUID(claims.sub)
    connection = LiveConnection(websocket, user_id, queue_size=settings.ws_send_queue_size)
    connection.expire_at(float(claims.raw["exp"]))
    hub.add(connection)  # before reading state: nothing published from here on is missed
    sender = asyncio.create_task(connection.run_sender())
    try:
        unread, connection.last_seq = await service.connect_state(state.send_engine, user_id)
        connection.send(
            {
                "type": "ready",
                "user_id": str(user_id),
                "unread_count": unread,
                "heartbeat_seconds": settings.ws_heartbeat_seconds,
            }
        )
        if "last_id" in first:
            await _resume(websocket, connection, first.get("last_id"))
        await _receive_loop(websocket, connection, claims)
    except _Refused as refused:
        connection.close(refused.code, refused.reason)
    except WebSocketDisconnect:
        pass
    finally:
        hub.remove(connection)
        connection.close(1000, "")
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(sender, 2.0)
        connection.stop()


async def _resume(websocket: WebSocket, connection: LiveConnection, last_id: Any) -> None:
    resume_from = _uuid(last_id)
    if last_id and resume_from is None:
        connection.send(protocol.error("invalid_last_id", "last_id must be a notification id"))
        return
    settings: NotificationSettings = websocket.app.state.settings
    await service.resume(
        websocket.app.state.send_engine,
        connection,
        last_id=resume_from,
        limit=settings.ws_resume_limit,
    )


async def _receive_loop(
    websocket: WebSocket, connection: LiveConnection, claims: TokenClaims
) -> None:
    verifier: JWKSVerifier = websocket.app.state.jwt_verifier
    while not connection.closing:
        message = _parse(await websocket.receive())
        kind = message.get("type")
        if kind == "ping":
            connection.send({"type": "pong"})
        elif kind == "resume":
            await _resume(websocket, connection, message.get("last_id"))
        elif kind == "auth":
            # A refreshed token keeps the socket open past the old token's expiry.
            fresh = await _verify(verifier, message.get("token"))
            if fresh.sub != claims.sub:
                raise _Refused(protocol.CLOSE_UNAUTHORIZED, "the token belongs to another user")
            connection.expire_at(float(fresh.raw["exp"]))
            connection.send({"type": "authenticated"})
        else:
            connection.send(protocol.error("unknown_type", f"unknown message type {kind!r}"))
