"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from catalog_service.audit.service import Actor
from catalog_service.changes import CatalogChanges
from catalog_service.clients import ProviderClient
from catalog_service.config import CatalogSettings
from catalog_service.versioning.tracker import VersionTracker
from webrana_common.auth.api_keys import Internal
from webrana_common.auth.dependencies import AdminUser
from webrana_common.db.session import SessionDep


async def _settings(conn: HTTPConnection) -> CatalogSettings:
    return conn.app.state.settings


async def _tracker(conn: HTTPConnection) -> VersionTracker:
    return conn.app.state.versions


async def _provider_client(conn: HTTPConnection) -> ProviderClient:
    return conn.app.state.provider_client


SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
TrackerDep = Annotated[VersionTracker, Depends(_tracker)]
ProviderClientDep = Annotated[ProviderClient, Depends(_provider_client)]


async def _admin_changes(
    session: SessionDep, admin: AdminUser, tracker: TrackerDep
) -> CatalogChanges:
    return CatalogChanges(session, Actor(user_id=admin.user_id), tracker)


async def _internal_changes(
    session: SessionDep, caller: Internal, tracker: TrackerDep
) -> CatalogChanges:
    return CatalogChanges(session, Actor(service=caller.name), tracker)


# Admin routes take this: it proves the caller is an admin and carries the audit actor.
AdminChanges = Annotated[CatalogChanges, Depends(_admin_changes)]
InternalChanges = Annotated[CatalogChanges, Depends(_internal_changes)]
