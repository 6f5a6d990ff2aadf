"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from provider_service.clouds.registry import CloudRegistry
from provider_service.config import ProviderSettings
from webrana_common.db.session import Database


async def _settings(conn: HTTPConnection) -> ProviderSettings:
    return conn.app.state.settings


async def _clouds(conn: HTTPConnection) -> CloudRegistry:
    return conn.app.state.clouds


async def _database(conn: HTTPConnection) -> Database:
    return conn.app.state.db


async def _redis(conn: HTTPConnection) -> Redis | None:
    return conn.app.state.redis


SettingsDep = Annotated[ProviderSettings, Depends(_settings)]
CloudsDep = Annotated[CloudRegistry, Depends(_clouds)]
DatabaseDep = Annotated[Database, Depends(_database)]
RedisDep = Annotated[Redis | None, Depends(_redis)]
