"""Admin: event templates (list, preview with sample or given data), the Telegram webhook."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from notification_service.admin.schemas import (
    EmailPreview,
    InAppPreview,
    Locale,
    PreviewRequest,
    TelegramPreview,
    TemplateInfo,
    TemplatePreview,
    WebhookRegistered,
    WebhookRegistration,
)
from notification_service.contracts import EVENTS, Category, NotificationEvent, SendNotification
from notification_service.dependencies import BotDep, RendererDep, SettingsDep
from notification_service.errors import TelegramNotConfigured
from notification_service.rendering.renderer import LOCALES, Renderer
from notification_service.rendering.telegram_html import visible_length
from notification_service.sending.service import check_data
from webrana_common.auth.dependencies import AdminUser
from webrana_common.openapi import ADMIN_AUTH, problems

router = APIRouter(prefix="/api/v1/admin/notifications", tags=["admin"])
WEBHOOK_PATH = "/api/v1/notifications/telegram/webhook"


@router.get("/templates", summary="Every event and its templates", responses=problems(**ADMIN_AUTH))
async def list_templates(_admin: AdminUser) -> list[TemplateInfo]:
    return [
        TemplateInfo(
            event=spec.event,
            category=spec.category,
            priority=spec.priority,
            channels=list(spec.channels),
            to_unverified_email=spec.to_unverified_email,
            locales=list(LOCALES),
            data_schema=spec.data.model_json_schema(),
            sample=spec.sample or {},
        )
        for spec in EVENTS.values()
    ]


def _preview(
    renderer: Renderer, event: NotificationEvent, request: PreviewRequest
) -> TemplatePreview:
    spec = EVENTS[event]
    body = SendNotification.model_construct(event=event, data=request.data or spec.sample or {})
    data = check_data(body)
    marketing = spec.category == Category.MARKETING
    unsubscribe = (
        f"{renderer.base_url}/api/v1/notifications/unsubscribe?token=…" if marketing else None
    )
    in_app = renderer.in_app(event, request.locale, data)
    email = renderer.email(
        event,
        request.locale,
        data,
        recipient_name=request.recipient_name,
        unsubscribe_url=unsubscribe,
    )
    telegram = renderer.telegram(event, request.locale, data)
    return TemplatePreview(
        event=event,
        locale=request.locale,
        in_app=InAppPreview(**in_app.__dict__),
        email=EmailPreview(
            subject=email.subject, html=email.html, text=email.text, list_unsubscribe=marketing
        ),
        telegram=TelegramPreview(text=telegram, visible_length=visible_length(telegram)),
    )


@router.get(
    "/templates/{event}/preview",
    summary="Render an event with its sample data",
    responses=problems(**ADMIN_AUTH),
)
async def preview_sample(
    event: NotificationEvent, renderer: RendererDep, _admin: AdminUser, locale: Locale = "id"
) -> TemplatePreview:
    return _preview(renderer, event, PreviewRequest(locale=locale))


@router.post(
    "/templates/{event}/preview",
    summary="Render an event with the given data",
    responses=problems(**ADMIN_AUTH, s422="invalid_event_data validation_error"),
)
async def preview(
    event: NotificationEvent, body: PreviewRequest, renderer: RendererDep, _admin: AdminUser
) -> TemplatePreview:
    return _preview(renderer, event, body)


@router.put(
    "/telegram/webhook",
    summary="Register this service's webhook with Telegram (setWebhook)",
    responses=problems(**ADMIN_AUTH, s503="telegram_not_configured"),
)
async def register_webhook(
    settings: SettingsDep, bot: BotDep, _admin: AdminUser, body: WebhookRegistration | None = None
) -> WebhookRegistered:
    if settings.telegram_webhook_secret is None:
        raise TelegramNotConfigured("TELEGRAM_WEBHOOK_SECRET is not set")
    url = (body.url if body else None) or settings.link(WEBHOOK_PATH)
    await bot.set_webhook(url, settings.telegram_webhook_secret.get_secret_value())
    return WebhookRegistered(url=url)


@router.delete(
    "/telegram/webhook",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the webhook (deleteWebhook)",
    responses=problems(**ADMIN_AUTH, s503="telegram_not_configured"),
)
async def delete_webhook(bot: BotDep, _admin: AdminUser) -> Response:
    await bot.delete_webhook()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
