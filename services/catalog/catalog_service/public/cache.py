"""Public reads served from memory: pre-serialised bodies keyed by (catalog version, query).

A request costs a version check (an attribute read; Redis at most once a second), then
either a 304 (the client's ETag names the current version) or a dictionary lookup and the
stored bytes. Only a first request per query and version renders: from the in-memory snapshot,
never from the database. Nothing on the hot path touches pydantic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from catalog_service.public.snapshot import Snapshot, load
from catalog_service.versioning.tracker import VersionTracker
from webrana_common.db.session import Database

log = logging.getLogger("catalog.public")

# Bumped when the public JSON changes shape, so clients drop representations of an older
# release even though the catalog version did not move.
ETAG_REVISION = "1"


class PublicView(Protocol):
    """One public read: `parse` validates the request against the snapshot (raising the
    problem a client should see) into a hashable, normalised query; `render` makes the body."""

    name: str

    def parse(self, snapshot: Snapshot, request: Request) -> Hashable: ...

    def render(self, snapshot: Snapshot, query: Any) -> bytes: ...


def etag_for(version: int) -> str:
    return f'"c{ETAG_REVISION}-{version}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison over a list of tags, `*` included."""
    if if_none_match.strip() == "*":
        return True
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    body: bytes
    headers: dict[str, str]


class PublicCatalog:
    def __init__(
        self,
        db: Database,
        tracker: VersionTracker,
        *,
        max_age_seconds: int,
        max_entries: int,
    ) -> None:
        self._db = db
        self._tracker = tracker
        self._cache_control = f"public, max-age={max_age_seconds}"
        self._max_entries = max_entries
        self._snapshot: Snapshot | None = None
        self._lock = asyncio.Lock()
        self._by_raw: dict[Hashable, _Entry] = {}
        self._by_query: dict[Hashable, _Entry] = {}
        self._cached_version = 0

    async def snapshot(self) -> Snapshot:
        return await self._snapshot_for(await self._tracker.current())

    async def _snapshot_for(self, version: int) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version >= version:
            return snapshot
        async with self._lock:  # one load per version, however many requests arrive
            snapshot = self._snapshot
            if snapshot is None or snapshot.version < version:
                snapshot = await load(self._db)
                self._snapshot = snapshot
                self._tracker.observe(snapshot.version)
                log.info("public catalog loaded", extra={"catalog_version": snapshot.version})
            return snapshot

    def _not_modified(self, etag: str) -> Response:
        return Response(
            status_code=304, headers={"ETag": etag, "Cache-Control": self._cache_control}
        )

    async def respond(self, request: Request, view: PublicView) -> Response:
        version = await self._tracker.current()
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and etag_matches(if_none_match, etag_for(version)):
            return self._not_modified(etag_for(version))
        raw_key = (request.scope["path"], request.scope["query_string"])
        entry = self._by_raw.get(raw_key)
        if entry is None or entry.version != version:
            entry = await self._render(request, view, raw_key)
            if if_none_match is not None and etag_matches(if_none_match, entry.headers["ETag"]):
                return self._not_modified(entry.headers["ETag"])
        return Response(entry.body, headers=entry.headers, media_type="application/json")

    async def _render(self, request: Request, view: PublicView, raw_key: Hashable) -> _Entry:
        snapshot = await self._snapshot_for(await self._tracker.current())
        if snapshot.version != self._cached_version:
            # Everything cached belongs to an older catalog.
            self._by_raw.clear()
            self._by_query.clear()
            self._cached_version = snapshot.version
        query = view.parse(snapshot, request)
        key = (view.name, query)
        entry = self._by_query.get(key)
        if entry is None:
            entry = _Entry(
                version=snapshot.version,
                body=view.render(snapshot, query),
                headers={"ETag": etag_for(snapshot.version), "Cache-Control": self._cache_control},
            )
            self._remember(self._by_query, key, entry)
        self._remember(self._by_raw, raw_key, entry)
        return entry

    def _remember(self, cache: dict[Hashable, _Entry], key: Hashable, entry: _Entry) -> None:
        if len(cache) >= self._max_entries:
            cache.pop(next(iter(cache)))  # oldest first: dicts keep insertion order
        cache[key] = entry
