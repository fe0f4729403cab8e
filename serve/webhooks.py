"""Helpdesk webhooks: verifying each helpdesk's signature and reading its native new-ticket payload.

Zendesk signs `timestamp + body` with HMAC-SHA256 (base64, `X-Zendesk-Webhook-Signature` and
`X-Zendesk-Webhook-Signature-Timestamp`); Zammad signs the body with HMAC-SHA1 (`X-Hub-Signature: sha1=<hex>`);
Freshdesk cannot sign, so its webhook sends the shared secret in a custom header, `X-Triage-Webhook-Secret`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from serve.text_rules import EXTERNAL_ID_MAX_CHARS, storage_problem

FRESHDESK_SECRET_HEADER = "X-Triage-Webhook-Secret"


class WebhookAuthError(Exception):
    """The request is not signed with the configured secret."""


class WebhookPayloadError(ValueError):
    """The body is not a new-ticket payload of the helpdesk."""


@dataclass(frozen=True)
class IncomingTicket:
    """The parts of a helpdesk ticket the service classifies."""

    external_id: str
    subject: str | None
    body: str


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, with line breaks where blocks end."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})
    HIDDEN = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blank lines collapsed."""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    lines = (line.strip() for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _secret_matches(expected: bytes, given: str) -> bool:
    return hmac.compare_digest(expected, given.strip().encode("utf-8"))


def verify_zendesk(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    signature = headers.get("x-zendesk-webhook-signature")
    timestamp = headers.get("x-zendesk-webhook-signature-timestamp")
    if not signature or not timestamp:
        raise WebhookAuthError("missing X-Zendesk-Webhook-Signature or X-Zendesk-Webhook-Signature-Timestamp")
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    if not _secret_matches(base64.b64encode(digest), signature):
        raise WebhookAuthError("bad Zendesk webhook signature")


def verify_zammad(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    signature = headers.get("x-hub-signature")
    if not signature:
        raise WebhookAuthError("missing X-Hub-Signature")
    expected = "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    if not _secret_matches(expected.encode("ascii"), signature):
        raise WebhookAuthError("bad Zammad webhook signature")


def verify_freshdesk(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    given = headers.get(FRESHDESK_SECRET_HEADER.lower())
    if not given:
        raise WebhookAuthError(f"missing {FRESHDESK_SECRET_HEADER}")
    if not _secret_matches(secret.encode("utf-8"), given):
        raise WebhookAuthError(f"wrong {FRESHDESK_SECRET_HEADER}")


def _object(payload: Any, key: str) -> dict[str, Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        raise WebhookPayloadError(f"expected an object under {key!r}")
    return value


def _storable(value: str, field: str) -> str:
    problem = storage_problem(value)
    if problem is not None:
        raise WebhookPayloadError(f"{field} {problem}")
    return value


def _ticket_id(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise WebhookPayloadError(f"{field} must be a non-empty string or an integer")
    ticket_id = str(value).strip()
    if len(ticket_id) > EXTERNAL_ID_MAX_CHARS:
        raise WebhookPayloadError(f"{field} is longer than {EXTERNAL_ID_MAX_CHARS} characters")
    return _storable(ticket_id, field)


def _text(value: Any, field: str, html: bool = False) -> str:
    if not isinstance(value, str):
        raise WebhookPayloadError(f"{field} must be a string")
    text = html_to_text(value) if html else value.strip()
    if not text:
        raise WebhookPayloadError(f"{field} is empty")
    return _storable(text, field)


def _optional_text(value: Any, field: str) -> str | None:
    return _text(value, field) if isinstance(value, str) and value.strip() else None


def parse_zendesk(payload: Any) -> IncomingTicket:
    """A trigger/target body `{"ticket": {"id", "subject", "description", ...}}`, or a ticket-created event
    `{"type": "zen:event-type:ticket.created", "detail": {"id", "subject", "description", ...}}`."""
    key = "detail" if isinstance(payload, dict) and "detail" in payload and "ticket" not in payload else "ticket"
    ticket = _object(payload, key)
    return IncomingTicket(
        external_id=_ticket_id(ticket.get("id"), f"{key}.id"),
        subject=_optional_text(ticket.get("subject"), f"{key}.subject"),
        body=_text(ticket.get("description"), f"{key}.description"),
    )


def parse_freshdesk(payload: Any) -> IncomingTicket:
    """`{"freshdesk_webhook": {"ticket_id", "ticket_subject", "ticket_description" (HTML), ...}}`."""
    ticket = _object(payload, "freshdesk_webhook")
    return IncomingTicket(
        external_id=_ticket_id(ticket.get("ticket_id"), "freshdesk_webhook.ticket_id"),
        subject=_optional_text(ticket.get("ticket_subject"), "freshdesk_webhook.ticket_subject"),
        body=_text(ticket.get("ticket_description"), "freshdesk_webhook.ticket_description", html=True),
    )


def parse_zammad(payload: Any) -> IncomingTicket:
    """`{"ticket": {"id", "title", ...}, "article": {"body", "content_type", ...}}`."""
    ticket = _object(payload, "ticket")
    article = _object(payload, "article")
    html = article.get("content_type") == "text/html"
    return IncomingTicket(
        external_id=_ticket_id(ticket.get("id"), "ticket.id"),
        subject=_optional_text(ticket.get("title"), "ticket.title"),
        body=_text(article.get("body"), "article.body", html=html),
    )


@dataclass(frozen=True)
class Helpdesk:
    """How one helpdesk's webhook is checked and read."""

    name: str
    verify: Callable[[str, Mapping[str, str], bytes], None]
    parse: Callable[[Any], IncomingTicket]
    example: dict[str, Any]


HELPDESKS: dict[str, Helpdesk] = {
    "zendesk": Helpdesk(
        "zendesk",
        verify_zendesk,
        parse_zendesk,
        {
            "ticket": {
                "id": 35436,
                "subject": "Заказ не доставлен",
                "description": "Оплатил заказ три недели назад, его так и не привезли. Верните деньги.",
                "requester": {"name": "Иван Петров", "email": "ivan@example.com"},
            }
        },
    ),
    "freshdesk": Helpdesk(
        "freshdesk",
        verify_freshdesk,
        parse_freshdesk,
        {
            "freshdesk_webhook": {
                "ticket_id": 1024,
                "ticket_subject": "Comanda întârziată",
                "ticket_description": "<div>Comanda a ajuns după două săptămâni, iar cutia era ruptă.</div>",
                "ticket_requester_email": "ana@example.com",
                "ticket_status": "Open",
            }
        },
    ),
    "zammad": Helpdesk(
        "zammad",
        verify_zammad,
        parse_zammad,
        {
            "ticket": {
                "id": 77,
                "number": "31077",
                "title": "Върнете ми парите",
                "customer": {"email": "g@example.bg"},
            },
            "article": {
                "id": 301,
                "body": "Поръчката не пристигна, а парите са изтеглени от картата ми.",
                "content_type": "text/plain",
            },
        },
    ),
}
