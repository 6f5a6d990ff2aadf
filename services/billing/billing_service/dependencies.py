"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from starlette.requests import HTTPConnection

from billing_service.config import BillingSettings
from billing_service.context import BillingContext
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT


async def _context(conn: HTTPConnection) -> BillingContext:
    return conn.app.state.billing


async def _settings(conn: HTTPConnection) -> BillingSettings:
    return conn.app.state.settings


ContextDep = Annotated[BillingContext, Depends(_context)]
SettingsDep = Annotated[BillingSettings, Depends(_settings)]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
DEFAULT_PAGE = DEFAULT_LIMIT
