from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from notification_service.contracts import Channel
from notification_service.dependencies import SettingsDep
from notification_service.preferences import service
from notification_service.preferences.schemas import PreferencesUpdate, PreferencesView
from notification_service.unsubscribe import read_token
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/notifications/preferences", tags=["preferences"])
_AUTH = {"s401": "token_missing token_invalid"}


@router.get("", summary="The caller's notification preferences", responses=problems(**_AUTH))
async def get_preferences(session: ReadSessionDep, user: CurrentUser) -> PreferencesView:
    return service.view(await service.load(session, user.user_id))


@router.put(
    "",
    summary="Replace the caller's notification preferences",
    description="Per category x channel switches (left out: on), a mute per channel (email, "
    "telegram) and quiet hours in Asia/Jakarta: during them non-urgent email and Telegram wait "
    "for the end of the window; in-app notifications are always stored. Security and "
    "transactional email and in-app cannot be switched off (`422 preference_locked`).",
    responses=problems(**_AUTH, s422="preference_locked validation_error"),
)
async def put_preferences(
    body: PreferencesUpdate, session: SessionDep, user: CurrentUser
) -> PreferencesView:
    return await service.save(session, user.user_id, body)


unsubscribe_router = APIRouter(prefix="/api/v1/notifications/unsubscribe", tags=["preferences"])
_PAGE = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>WeBrana Cloud</title>
</head><body style="font-family:Arial,sans-serif;max-width:480px;margin:48px auto;padding:0 16px">
{body}</body></html>"""


def _page(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(body=body), status_code=status_code)


@unsubscribe_router.get(
    "",
    summary="The page behind a marketing mail's unsubscribe link",
    response_class=HTMLResponse,
)
async def unsubscribe_page(
    settings: SettingsDep, token: Annotated[str, Query(max_length=200)]
) -> HTMLResponse:
    read_token(settings.unsubscribe_secret.get_secret_value(), token)
    action = html.escape(f"?token={token}")
    return _page(
        "<p>Berhenti menerima email pengumuman WeBrana Cloud?<br>"
        "<i>Stop receiving WeBrana Cloud announcement emails?</i></p>"
        f'<form method="post" action="{action}"><button type="submit">'
        "Berhenti berlangganan / Unsubscribe</button></form>"
    )


@unsubscribe_router.post(
    "",
    summary="One-click unsubscribe (RFC 8058)",
    description="What mail clients POST (`List-Unsubscribe=One-Click`) for the link in "
    "`List-Unsubscribe`; the signed token names the user and category. No login needed.",
    response_class=HTMLResponse,
    responses=problems(s400="unsubscribe_token_invalid"),
)
async def unsubscribe(
    session: SessionDep, settings: SettingsDep, token: Annotated[str, Query(max_length=200)]
) -> HTMLResponse:
    user_id, category = read_token(settings.unsubscribe_secret.get_secret_value(), token)
    await service.switch_off(session, user_id, category, Channel.EMAIL)
    return _page(
        "<p>Anda tidak akan menerima email pengumuman lagi.<br>"
        "<i>You will no longer receive announcement emails.</i></p>"
    )
