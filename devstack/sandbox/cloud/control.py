"""`/_sandbox/...`: how people and tests steer a cloud stand-in. No provider has paths under
`/_sandbox`, and calls here are never logged, delayed or faulted."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from devstack.sandbox.cloud.faults import FaultKind
from devstack.sandbox.cloud.settings import CreationFailure

if TYPE_CHECKING:
    from devstack.sandbox.cloud.provider import CloudProvider


class SettingsPatch(BaseModel):
    boot_delay: float | None = Field(default=None, ge=0)
    action_delay: float | None = Field(default=None, ge=0)
    latency_ms: int | None = Field(default=None, ge=0)
    creation_failure: CreationFailure | None = None
    creation_failure_message: str | None = None
    validate_responses: bool | None = None


class FaultRequest(BaseModel):
    kind: FaultKind
    count: int = Field(default=1, ge=1)
    status: int = Field(default=500, ge=400, le=599, description="for kind=error")
    retry_after: int = Field(default=1, ge=0, description="seconds, for kind=rate_limit")
    seconds: float = Field(default=30.0, ge=0, description="how long a timeout holds the call")
    process: bool = Field(default=False, description="timeout: carry the call out first")
    message: str | None = None
    method: str | None = None
    path: str | None = Field(default=None, description="glob over the request path")
    operation: str | None = Field(default=None, description="operationId in the spec")


def control_router(provider: CloudProvider) -> APIRouter:
    router = APIRouter(tags=["sandbox control"])

    def settings_view() -> dict[str, Any]:
        values = provider.settings.model_dump(exclude={"token"})
        return {**values, "token_required": provider.settings.token is not None}

    @router.get("/settings")
    async def get_settings() -> dict[str, Any]:
        return settings_view()

    @router.patch("/settings")
    async def patch_settings(patch: SettingsPatch) -> dict[str, Any]:
        """Only the fields sent change; `"creation_failure": null` ends a creation failure."""
        for name in patch.model_fields_set:
            value = getattr(patch, name)
            if value is not None or name == "creation_failure":
                setattr(provider.settings, name, value)
        return settings_view()

    @router.post("/faults", status_code=201)
    async def add_fault(fault: FaultRequest) -> dict[str, Any]:
        options = fault.model_dump(exclude={"kind", "count"})
        return provider.faults.add(fault.kind, fault.count, **options).as_dict()

    @router.get("/faults")
    async def list_faults() -> dict[str, Any]:
        return {"faults": [f.as_dict() for f in provider.faults.pending()]}

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        provider.faults.clear()
        return Response(status_code=204)

    @router.post("/reset", status_code=204)
    async def reset() -> Response:
        """Forget servers, jobs, mail, faults and the request log; restore the settings."""
        provider.reset()
        return Response(status_code=204)

    @router.get("/requests")
    async def list_requests(
        operation: str | None = None,
        valid: bool | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> dict[str, Any]:
        """Oldest first, each with the spec's verdict (`valid`, `issues`, `warnings`)."""
        entries = provider.log.entries(
            operation=operation, valid=valid, method=method, path_prefix=path_prefix
        )
        return {"requests": [e.as_dict() for e in entries]}

    @router.delete("/requests", status_code=204)
    async def clear_requests() -> Response:
        provider.log.clear()
        return Response(status_code=204)

    @router.get("/servers")
    async def list_servers(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {"servers": [provider.server_view(m, base) for m in provider.state.all()]}

    @router.get("/servers/{server_id}", response_model=None)
    async def get_server(request: Request, server_id: str) -> dict[str, Any] | JSONResponse:
        machine = next((m for m in provider.state.all() if str(m.id) == server_id), None)
        if machine is None:
            return JSONResponse({"detail": f"no server {server_id}"}, status_code=404)
        return provider.server_view(machine, str(request.base_url).rstrip("/"))

    @router.get("/emails")
    async def list_emails(
        server_id: Annotated[str | None, Query(description="only mail about this server")] = None,
    ) -> dict[str, Any]:
        """Mail the provider would have sent the account owner, oldest first."""
        emails = provider.state.emails
        if server_id is not None:
            emails = [e for e in emails if str(e["server_id"]) == server_id]
        return {"emails": emails}

    @router.get("/spec")
    async def spec() -> dict[str, Any]:
        """The OpenAPI subset this stand-in validates against."""
        return provider.spec.document

    @router.get("/console/{server_id}", response_class=HTMLResponse)
    async def console(server_id: str) -> HTMLResponse:
        """What a console link points at: a page, since there is no real machine behind it."""
        name = html.escape(server_id)
        return HTMLResponse(
            f"<!doctype html><title>{provider.title} console {name}</title>"
            f"<p>{provider.title} sandbox: console of server {name}. "
            "There is no real machine behind this stand-in.</p>"
        )

    return router
