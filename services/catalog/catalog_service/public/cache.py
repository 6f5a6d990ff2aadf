"""Public reads served from memory: pre-serialised bodies keyed by (catalog version, query).

Two ways in. `PublicCatalogFastPath`, a pure ASGI middleware inside the request-id and metrics
middleware, answers a URL it has already rendered for the current catalog version — or a
304 — straight from the cache: a version check (an attribute read; Redis at most once a
second), a dictionary lookup, two ASGI messages. Everything else (first sight of a URL, a new
version, a bad query) falls through to the FastAPI route, which validates the query against
the in-memory snapshot, renders once, and stores the bytes. Neither path touches the database
or pydantic for a URL already seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_service.public.snapshot import Snapshot, load
from catalog_service.versioning.tracker import VersionTracker
from webrana_common.db.session import Database

log = logging.getLogger("catalog.public")

PUBLIC_PREFIX = "/api/v1/catalog/"
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
    etag: str
    body: bytes
    raw_headers: list[tuple[bytes, bytes]]
    route: Any  # the APIRoute, so metrics label a fast answer with its route template


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
        # raw (path, query string) → entry, and (view, normalised query) → entry: two spellings
        # of one query share one rendering.
        self._by_raw: dict[Hashable, _Entry] = {}
        self._by_query: dict[Hashable, _Entry] = {}
        self._cached_version = 0
        self._not_modified_cache: tuple[int, str, list[tuple[bytes, bytes]]] = (0, "", [])

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

    # -- the fast path (raw ASGI)

    async def serve_from_memory(self, scope: Scope, send: Send) -> bool:
        """Answer from the cache if this exact URL was rendered before; False to fall through."""
        entry = self._by_raw.get((scope["path"], scope["query_string"]))
        if entry is None:
            return False
        version = await self._tracker.current()
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        if if_none_match is not None:
            etag, headers = self._not_modified_for(version)
            if if_none_match == etag or etag_matches(if_none_match, etag):
                scope["route"] = entry.route
                await self._send(send, 304, headers, b"")
                return True
        if entry.version != version:
            return False
        scope["route"] = entry.route
        await self._send(send, 200, entry.raw_headers, entry.body)
        return True

    @staticmethod
    async def _send(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _not_modified_for(self, version: int) -> tuple[str, list[tuple[bytes, bytes]]]:
        """The current version's ETag and 304 headers, built once per version."""
        cached = self._not_modified_cache
        if cached[0] != version:
            etag = etag_for(version)
            headers = [(b"etag", etag.encode()), (b"cache-control", self._cache_control.encode())]
            cached = self._not_modified_cache = (version, etag, headers)
        return cached[1], cached[2]

    # -- the route (first sight of a URL in a version, errors)

    async def respond(self, request: Request, view: PublicView) -> Response:
        version = await self._tracker.current()
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and etag_matches(if_none_match, etag_for(version)):
            return self._not_modified(etag_for(version))
        entry = await self._render(request, view)
        if if_none_match is not None and etag_matches(if_none_match, entry.etag):
            return self._not_modified(entry.etag)
        return Response(
            entry.body,
            headers={"ETag": entry.etag, "Cache-Control": self._cache_control},
            media_type="application/json",
        )

    def _not_modified(self, etag: str) -> Response:
        return Response(
            status_code=304, headers={"ETag": etag, "Cache-Control": self._cache_control}
        )

    async def _render(self, request: Request, view: PublicView) -> _Entry:
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
            body = view.render(snapshot, query)
            etag = etag_for(snapshot.version)
            entry = _Entry(
                version=snapshot.version,
                etag=etag,
                body=body,
                raw_headers=[
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"etag", etag.encode()),
                    (b"cache-control", self._cache_control.encode()),
                ],
                route=request.scope.get("route"),
            )
            self._remember(self._by_query, key, entry)
        self._remember(self._by_raw, (request.scope["path"], request.scope["query_string"]), entry)
        return entry

    def _remember(self, cache: dict[Hashable, _Entry], key: Hashable, entry: _Entry) -> None:
        if len(cache) >= self._max_entries:
            cache.pop(next(iter(cache)))  # oldest first: dicts keep insertion order
        cache[key] = entry


class PublicCatalogFastPath:
    """Pure ASGI. Registered innermost among the user middleware (see app.py), so request
    ids, logs and metrics see its answers like any other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(PUBLIC_PREFIX)
        ):
            # Set by the lifespan; absent before it ran.
            catalog: PublicCatalog | None = getattr(scope["app"].state, "public_catalog", None)
            if catalog is not None and await catalog.serve_from_memory(scope, send):
                return
        await self.app(scope, receive, send)
