"""`POST /v1/webhooks/{zendesk,freshdesk,zammad}`: verify, classify, store once, answer with the tags to set."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from serve.deps import errors
from serve.resources import Resources
from serve.schemas import WebhookResult
from serve.service import check_length, classify_tickets, ticket_out
from serve.store import NewTicket
from serve.webhooks import HELPDESKS, Helpdesk, IncomingTicket, WebhookAuthError, WebhookPayloadError

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _store(resources: Resources, source: str, incoming: IncomingTicket) -> WebhookResult:
    """Classify and store a helpdesk ticket, or return the stored result of a redelivery (blocking)."""
    with resources.database.session() as session:
        new = NewTicket(source, incoming.external_id, incoming.subject, incoming.body)
        [(ticket, created)] = classify_tickets(resources, session, [new])
        out = ticket_out(resources, ticket, "en")
    return WebhookResult(
        source=source, external_id=incoming.external_id, ticket_id=ticket.id, created=created, tags=out.tags, ticket=out
    )


async def _receive(helpdesk: Helpdesk, request: Request) -> WebhookResult:
    resources: Resources = request.app.state.resources
    secret = getattr(resources.settings, f"{helpdesk.name}_webhook_secret")
    if secret is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"the {helpdesk.name} webhook is off: set TRIAGE_{helpdesk.name.upper()}_WEBHOOK_SECRET to turn it on",
        )
    body = await request.body()
    try:
        helpdesk.verify(secret.get_secret_value(), request.headers, body)
    except WebhookAuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body is not JSON: {exc}") from exc
    try:
        incoming = helpdesk.parse(payload)
    except WebhookPayloadError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a {helpdesk.name} ticket payload: {exc}"
        ) from exc
    check_length(incoming.body, resources.settings.max_text_chars)
    return await run_in_threadpool(_store, resources, helpdesk.name, incoming)


def _documented(helpdesk: Helpdesk, signature: str) -> dict[str, Any]:
    return {
        "summary": f"{helpdesk.name.capitalize()} new-ticket webhook",
        "description": f"{signature} Answers with the tags to set; a redelivered ticket returns the stored result "
        "(`created: false`) and stores nothing new.",
        "responses": errors(400, 401, 404, 413, 422),
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}, "example": helpdesk.example}},
            }
        },
    }


@router.post(
    "/zendesk",
    **_documented(
        HELPDESKS["zendesk"],
        "Signed: `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of "
        "`X-Zendesk-Webhook-Signature-Timestamp` + body, with the webhook's signing secret.",
    ),
)
async def zendesk(request: Request) -> WebhookResult:
    return await _receive(HELPDESKS["zendesk"], request)


@router.post(
    "/freshdesk",
    **_documented(
        HELPDESKS["freshdesk"],
        "Authenticated by the shared secret in the custom header `X-Triage-Webhook-Secret`.",
    ),
)
async def freshdesk(request: Request) -> WebhookResult:
    return await _receive(HELPDESKS["freshdesk"], request)


@router.post(
    "/zammad",
    **_documented(HELPDESKS["zammad"], "Signed: `X-Hub-Signature` = `sha1=` hex HMAC-SHA1 of the body."),
)
async def zammad(request: Request) -> WebhookResult:
    return await _receive(HELPDESKS["zammad"], request)
