"""Linode's event log: where the progress of a queued job (boot, reboot, rebuild, ...) shows.

The action endpoints answer `{}`, so the job a call queued is found afterwards as the newest
event of that action on that Linode, the way linodego's event poller does it."""

from __future__ import annotations

import json
from typing import Any

from provider_service.clouds.base import ActionResult, ActionStatus, ActionType
from provider_service.clouds.errors import ActionNotFound
from provider_service.clouds.http import ProviderHttp

EVENT_STATUSES = {
    "scheduled": ActionStatus.IN_PROGRESS,
    "started": ActionStatus.IN_PROGRESS,
    "finished": ActionStatus.COMPLETED,
    "notification": ActionStatus.COMPLETED,
    "failed": ActionStatus.ERRORED,
}
EVENT_ACTIONS = {
    "linode_reboot": ActionType.REBOOT,
    "linode_boot": ActionType.POWER_ON,
    "linode_shutdown": ActionType.POWER_OFF,
    "linode_rebuild": ActionType.REBUILD,
    "password_reset": ActionType.RESET_PASSWORD,
}


async def newest_event(
    http: ProviderHttp, linode_id: int, event_action: str, ours: ActionType | None
) -> ActionResult:
    """The newest `event_action` event of this Linode (in progress if none shows yet)."""
    x_filter = {
        "entity.id": linode_id,
        "entity.type": "linode",
        "action": event_action,
        "+order_by": "created",
        "+order": "desc",
    }
    response = await http.request(
        "GET",
        "/account/events",
        params={"page": 1, "page_size": 25},
        headers={"X-Filter": json.dumps(x_filter)},
    )
    events = [
        e
        for e in response.json().get("data") or []
        if (e.get("entity") or {}).get("id") == linode_id and e.get("action") == event_action
    ]
    if not events:
        return ActionResult(type=str(ours or event_action), status=ActionStatus.IN_PROGRESS)
    newest = max(events, key=lambda e: (e.get("created") or "", e.get("id") or 0))
    return _result(newest, ours)


async def event_of(http: ProviderHttp, linode_id: int, event_id: str) -> ActionResult:
    if not event_id.isascii() or not event_id.isdigit():
        raise ActionNotFound(f"linode has no event {event_id!r}", provider="linode")
    response = await http.request(
        "GET", f"/account/events/{int(event_id)}", not_found=ActionNotFound
    )
    event = response.json()
    if (event.get("entity") or {}).get("id") != linode_id:
        raise ActionNotFound(f"event {event_id} is not about linode {linode_id}", provider="linode")
    return _result(event, None)


def _result(event: dict[str, Any], ours: ActionType | None) -> ActionResult:
    raw_action = str(event.get("action"))
    return ActionResult(
        type=str(ours or EVENT_ACTIONS.get(raw_action, raw_action)),
        status=EVENT_STATUSES.get(str(event.get("status")), ActionStatus.IN_PROGRESS),
        action_id=str(event["id"]),
    )
