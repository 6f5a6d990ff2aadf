"""Request dependencies shared by the routers: settings, Redis, the hub, the auth client..."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from notification_service.clients import AuthClient
from notification_service.config import NotificationSettings
from notification_service.delivery_queue import DeliveryQueue
from notification_service.live.hub import LiveHub
from notification_service.rendering.renderer import Renderer
from notification_service.telegram_bot.bot import TelegramBot


async def _settings(conn: HTTPConnection) -> NotificationSettings:
    return conn.app.state.settings


async def _redis(conn: HTTPConnection) -> Redis:
    return conn.app.state.redis


async def _hub(conn: HTTPConnection) -> LiveHub:
    return conn.app.state.hub


async def _auth(conn: HTTPConnection) -> AuthClient:
    return conn.app.state.auth


async def _renderer(conn: HTTPConnection) -> Renderer:
    return conn.app.state.renderer


async def _queue(conn: HTTPConnection) -> DeliveryQueue:
    return conn.app.state.delivery_queue


async def _bot(conn: HTTPConnection) -> TelegramBot:
    return conn.app.state.bot


SettingsDep = Annotated[NotificationSettings, Depends(_settings)]
RedisDep = Annotated[Redis, Depends(_redis)]
HubDep = Annotated[LiveHub, Depends(_hub)]
AuthDep = Annotated[AuthClient, Depends(_auth)]
RendererDep = Annotated[Renderer, Depends(_renderer)]
QueueDep = Annotated[DeliveryQueue, Depends(_queue)]
BotDep = Annotated[TelegramBot, Depends(_bot)]
