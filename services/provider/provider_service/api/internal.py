"""Internal routes on servers, actions, consoles and provider metadata (X-API-Key only).

Provisioning itself is in `provisioning/router.py`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from provider_service.clouds.base import ActionRequest, ActionType, Instance
from provider_service.clouds.registry import ProviderInfo
from provider_service.dependencies import CloudsDep, RedisDep, SettingsDep
from provider_service.openapi import provider_problems
from provider_service.provider_metadata import MetadataKind, MetadataList, list_metadata
from webrana_common.auth.api_keys import require_internal

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_internal])

NO_STORE = {"Cache-Control": "no-store"}


class ActionBody(BaseModel):
    type: ActionType
    image: str | None = Field(
        default=None,
        max_length=128,
        description="rebuild only: the image to rebuild onto (default: the current one).",
    )


class ActionView(BaseModel):
    provider: str
    provider_instance_id: str
    type: str
    status: str
    action_id: str | None = Field(
        description="Poll GET .../actions/{action_id}; null where the provider has no action "
        "objects (Vultr): poll the instance."
    )
    root_password: str | None = Field(
        default=None, description="reset_password and rebuild (Linode, Vultr): shown once."
    )
    note: str | None = None


class ConsoleView(BaseModel):
    provider: str
    provider_instance_id: str
    kind: str
    url: str
    note: str


class ProvidersView(BaseModel):
    providers: list[ProviderInfo]


@router.get(
    "/providers",
    summary="Providers, whether each can be used, and what each can do",
    description="Callers and frontends hide actions, console, rebuild and password reset where "
    "`capabilities` says the provider cannot do them.",
)
async def providers(clouds: CloudsDep) -> ProvidersView:
    return ProvidersView(providers=clouds.describe())


@router.get(
    "/providers/{provider}/{kind}",
    summary="Regions, sizes or images of a provider (cached)",
    description="Cached in Redis for PROVIDER_METADATA_TTL_SECONDS; `refresh=true` asks the "
    "provider and refreshes the cache.",
    responses=provider_problems(),
)
async def metadata(
    provider: str,
    kind: MetadataKind,
    clouds: CloudsDep,
    redis: RedisDep,
    settings: SettingsDep,
    refresh: Annotated[bool, Query()] = False,
) -> MetadataList:
    return await list_metadata(
        redis,
        clouds.get(provider),
        kind,
        ttl_seconds=settings.provider_metadata_ttl_seconds,
        refresh=refresh,
    )


@router.get(
    "/instances/{provider}/{instance_id}",
    summary="A server as the provider reports it now",
    description="`status` is ours (PROVISIONING, ACTIVE, OFF, SUSPENDED, TERMINATED, ERROR); "
    "`provider_status` the provider's own words; `busy` while an operation holds the server.",
    responses=provider_problems(s404="instance_not_found"),
)
async def get_instance(provider: str, instance_id: str, clouds: CloudsDep) -> Instance:
    return await clouds.get(provider).get(instance_id)


@router.delete(
    "/instances/{provider}/{instance_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Destroy a server (billing stops at the provider)",
    description="404 instance_not_found means it is already gone.",
    responses=provider_problems(s404="instance_not_found"),
)
async def delete_instance(provider: str, instance_id: str, clouds: CloudsDep) -> Response:
    await clouds.get(provider).delete(instance_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/instances/{provider}/{instance_id}/actions",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start an action: reboot, power_on, power_off, shutdown, reset_password, rebuild",
    description="Refused with 400 `action_not_supported` where the provider's capabilities say "
    "so. A Linode `reset_password` powers the server off, sets the password and boots it "
    "again before answering. Passwords appear once, in this answer.",
    responses=provider_problems(
        s400="action_not_supported rebuild_image_not_supported",
        s404="instance_not_found",
        s422="provider_rejected",
        s503="power_off_timeout",
    ),
)
async def start_action(
    provider: str, instance_id: str, body: ActionBody, clouds: CloudsDep, response: Response
) -> ActionView:
    adapter = clouds.get(provider)
    result = await adapter.action(instance_id, ActionRequest(type=body.type, image=body.image))
    response.headers.update(NO_STORE)
    return ActionView(
        provider=adapter.name,
        provider_instance_id=instance_id,
        type=result.type,
        status=result.status,
        action_id=result.action_id,
        root_password=result.root_password.get_secret_value() if result.root_password else None,
        note=result.note,
    )


@router.get(
    "/instances/{provider}/{instance_id}/actions/{action_id}",
    summary="Progress of an action",
    responses=provider_problems(
        s400="action_tracking_not_supported", s404="action_not_found instance_not_found"
    ),
)
async def get_action(
    provider: str, instance_id: str, action_id: str, clouds: CloudsDep
) -> ActionView:
    adapter = clouds.get(provider)
    result = await adapter.get_action(instance_id, action_id)
    return ActionView(
        provider=adapter.name,
        provider_instance_id=instance_id,
        type=result.type,
        status=result.status,
        action_id=result.action_id,
    )


@router.get(
    "/instances/{provider}/{instance_id}/console",
    summary="A console URL, fetched from the provider on every call",
    description="Never cached (Vultr's URL is short-lived). 400 console_not_supported where "
    "the provider has no console API.",
    responses=provider_problems(
        s400="console_not_supported", s404="instance_not_found", s409="console_not_ready"
    ),
)
async def console(
    provider: str, instance_id: str, clouds: CloudsDep, response: Response
) -> ConsoleView:
    adapter = clouds.get(provider)
    found = await adapter.console(instance_id)
    response.headers.update(NO_STORE)
    return ConsoleView(
        provider=adapter.name,
        provider_instance_id=instance_id,
        kind=found.kind,
        url=found.url,
        note=found.note,
    )
