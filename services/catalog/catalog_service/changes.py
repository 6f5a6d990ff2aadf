"""Every change to the catalog goes through `CatalogChanges.record`: it writes the audit entry
and bumps the catalog version once per transaction, and after the commit tells the public
cache (this process at once, the others through Redis)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.audit import service as audit
from catalog_service.audit.service import Actor, AuditAction, TargetType
from catalog_service.versioning import repository as versions
from catalog_service.versioning.tracker import VersionTracker
from webrana_common.db.session import after_commit


class CatalogChanges:
    def __init__(
        self, session: AsyncSession, actor: Actor, tracker: VersionTracker | None = None
    ) -> None:
        self.session = session
        self.actor = actor
        self._tracker = tracker
        self.version: int | None = None

    async def record(
        self,
        action: AuditAction,
        *,
        target_type: TargetType,
        target_id: uuid.UUID | None,
        target_slug: str | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        public: bool = True,
    ) -> None:
        """`public=False` for changes no public response shows (the `referenced` marker)."""
        audit.record(
            self.session,
            action,
            self.actor,
            target_type=target_type,
            target_id=target_id,
            target_slug=target_slug,
            before=before,
            after=after,
        )
        if public and self.version is None:
            self.version = version = await versions.bump(self.session)
            tracker = self._tracker
            if tracker is not None:

                async def publish() -> None:
                    await tracker.publish(version)

                after_commit(self.session, publish)
