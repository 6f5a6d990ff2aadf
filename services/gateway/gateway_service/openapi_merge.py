"""One API document from the services' own: only the operations the gateway routes to each
service (never /internal/**), each tagged with its service, operation ids and clashing
component names prefixed with the service, and the edge's bearer scheme on every operation
that needs a token.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gateway_service.paths import is_internal
from gateway_service.routes import is_public, match_route

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER = "bearerAuth"
GATEWAY = "gateway"


@dataclass
class ServicePart:
    service: str
    document: dict[str, Any] | None = None
    # ok: fresh; stale: the service did not answer the last fetch, its last document is shown;
    # missing: no document was ever fetched.
    status: str = "missing"
    fetched_at: str | None = None
    error: str | None = None


def merge_documents(
    parts: list[ServicePart],
    *,
    title: str,
    version: str,
    description: str,
) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": {},
        "components": {
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Access token from POST /api/v1/auth/login",
                }
            }
        },
        "tags": [],
        "x-tagGroups": [],
    }
    services: dict[str, Any] = {}
    for part in parts:
        services[part.service] = {
            "status": part.status,
            "fetched_at": part.fetched_at,
            **({"error": part.error} if part.error else {}),
        }
        if part.document is None:
            merged["tags"].append(
                {"name": part.service, "description": _unavailable(part, "no document yet")}
            )
            merged["x-tagGroups"].append({"name": part.service, "tags": [part.service]})
            continue
        _merge_part(merged, part)
    merged["info"]["x-services"] = services
    return merged


def _unavailable(part: ServicePart, what: str) -> str:
    return f"**The {part.service} service is unavailable** ({what}: {part.error or 'not reached'})."


def _merge_part(merged: dict[str, Any], part: ServicePart) -> None:
    document = part.document or {}
    service = part.service
    renames = _merge_components(merged["components"], document.get("components") or {}, service)
    descriptions = {t.get("name"): t.get("description", "") for t in document.get("tags") or []}
    used_tags: list[str] = []
    for path, item in (document.get("paths") or {}).items():
        if not _belongs(service, path):
            continue
        merged_item = {}
        for key, value in item.items():
            if key not in HTTP_METHODS:
                merged_item[key] = _rewrite(value, renames)
                continue
            operation = _rewrite(value, renames)
            tags = [f"{service}: {t}" for t in operation.get("tags") or []] or [service]
            operation["tags"] = tags
            used_tags.extend(t for t in tags if t not in used_tags)
            if "operationId" in operation:
                operation["operationId"] = f"{service}_{operation['operationId']}"
            if service != GATEWAY:
                operation["security"] = [] if is_public(key, path) else [{BEARER: []}]
            merged_item[key] = operation
        if any(k in HTTP_METHODS for k in merged_item):
            merged["paths"][path] = merged_item
    note = ""
    if part.status == "stale":
        note = " " + _unavailable(part, f"showing its document from {part.fetched_at}")
    for tag in used_tags:
        original = tag.split(": ", 1)[1] if ": " in tag else ""
        merged["tags"].append({"name": tag, "description": descriptions.get(original, "") + note})
    merged["x-tagGroups"].append({"name": service, "tags": used_tags})


def _belongs(service: str, path: str) -> bool:
    if service == GATEWAY:
        return not is_internal(path)
    if is_internal(path):
        return False
    route = match_route(path)
    return route is not None and route.service == service


def _merge_components(
    target: dict[str, Any], components: dict[str, Any], service: str
) -> dict[str, str]:
    """Adds a service's components; returns `$ref` renames for names that clash."""
    renames: dict[str, str] = {}
    incoming: dict[str, dict[str, Any]] = {}
    for section, entries in components.items():
        if section == "securitySchemes" or not isinstance(entries, dict):
            continue
        section_target = target.setdefault(section, {})
        incoming[section] = {}
        for name, value in entries.items():
            existing = section_target.get(name)
            if existing is None or existing == value:
                incoming[section][name] = value
                continue
            new_name = f"{service}_{name}"
            renames[f"#/components/{section}/{name}"] = f"#/components/{section}/{new_name}"
            incoming[section][new_name] = value
    for section, entries in incoming.items():
        for name, value in entries.items():
            target[section][name] = _rewrite(value, renames)
    return renames


def _rewrite(value: Any, renames: dict[str, str]) -> Any:
    """A deep copy with `$ref`s renamed (the stored document is never modified)."""
    if not renames:
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {
            k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rewrite(v, renames)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, renames) for v in value]
    return value
