"""Helpdesk webhooks: native payloads, signatures, idempotent redelivery, rejected input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from serve.app import create_app
from serve.db import Ticket
from serve.webhooks import html_to_text
from tests.service_support import SECRETS, ServiceModel, resources_of, service_settings

ZENDESK = {
    "ticket": {
        "id": 35436,
        "subject": "Заказ не доставлен",
        "description": "Жду заказ третью неделю, деньги списали.",
        "requester": {"name": "Иван", "email": "ivan@example.com"},
    }
}
ZENDESK_EVENT = {
    "type": "zen:event-type:ticket.created",
    "account_id": 1,
    "detail": {"id": "35437", "subject": "Banii", "description": "Vreau banii inapoi, comanda nu a ajuns."},
    "event": {},
}
FRESHDESK = {
    "freshdesk_webhook": {
        "ticket_id": 1024,
        "ticket_subject": "Comanda",
        "ticket_description": "<div>Comanda <b>nu</b> a ajuns.<br>Vreau banii &amp; o scuză.</div>",
        "ticket_requester_email": "ana@example.com",
    }
}
ZAMMAD = {
    "ticket": {"id": 77, "number": "31077", "title": "Върнете парите"},
    "article": {"body": "<p>Поръчката не пристигна.</p><p>Върнете парите!</p>", "content_type": "text/html"},
}


def zendesk_headers(body: bytes, secret: str = SECRETS["zendesk"], timestamp: str = "2026-11-23T10:00:00Z") -> dict:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
    }


def zammad_headers(body: bytes, secret: str = SECRETS["zammad"]) -> dict:
    return {"X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}


def freshdesk_headers(body: bytes, secret: str = SECRETS["freshdesk"]) -> dict:
    return {"X-Triage-Webhook-Secret": secret}


SIGN = {"zendesk": zendesk_headers, "freshdesk": freshdesk_headers, "zammad": zammad_headers}


def deliver(client: TestClient, helpdesk: str, payload: Any, headers: dict | None = None) -> Any:
    body = json.dumps(payload, ensure_ascii=False).encode()
    signed = SIGN[helpdesk](body) if headers is None else headers
    return client.post(f"/v1/webhooks/{helpdesk}", content=body, headers={"Content-Type": "application/json", **signed})


def stored(client: TestClient) -> int:
    with resources_of(client.app).database.session() as session:  # type: ignore[arg-type]
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.mark.parametrize(
    ("helpdesk", "payload", "external_id", "text"),
    [
        ("zendesk", ZENDESK, "35436", "Заказ не доставлен\nЖду заказ третью неделю, деньги списали."),
        ("zendesk", ZENDESK_EVENT, "35437", "Banii\nVreau banii inapoi, comanda nu a ajuns."),
        ("freshdesk", FRESHDESK, "1024", "Comanda\nComanda nu a ajuns.\nVreau banii & o scuză."),
        ("zammad", ZAMMAD, "77", "Върнете парите\nПоръчката не пристигна.\nВърнете парите!"),
    ],
    ids=["zendesk-target", "zendesk-event", "freshdesk", "zammad"],
)
def test_native_payload_is_classified_once_and_redelivery_returns_the_stored_result(
    service_client: TestClient, helpdesk: str, payload: Any, external_id: str, text: str
) -> None:
    first = deliver(service_client, helpdesk, payload)
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["created"] is True and result["source"] == helpdesk and result["external_id"] == external_id
    assert result["ticket"]["text"] == text and result["ticket"]["id"] == result["ticket_id"]
    assert result["tags"] == result["ticket"]["tags"] and any(t.startswith("triage_lang_") for t in result["tags"])
    count = stored(service_client)
    again = deliver(service_client, helpdesk, payload)
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["ticket_id"] == result["ticket_id"]
    assert again.json()["tags"] == result["tags"]
    assert stored(service_client) == count


def test_same_ticket_id_from_two_helpdesks_is_two_tickets(service_client: TestClient) -> None:
    zendesk = deliver(service_client, "zendesk", {"ticket": {"id": 5, "description": "Жду деньги"}})
    zammad = deliver(service_client, "zammad", {"ticket": {"id": 5, "title": "x"}, "article": {"body": "Жду деньги"}})
    assert zendesk.json()["created"] and zammad.json()["created"]
    assert zendesk.json()["ticket_id"] != zammad.json()["ticket_id"]


@pytest.mark.parametrize(
    ("helpdesk", "headers", "message"),
    [
        ("zendesk", {}, "missing X-Zendesk-Webhook-Signature"),
        ("zendesk", "wrong-secret", "bad Zendesk webhook signature"),
        ("zendesk", "other-timestamp", "bad Zendesk webhook signature"),
        ("zammad", {}, "missing X-Hub-Signature"),
        ("zammad", "wrong-secret", "bad Zammad webhook signature"),
        ("zammad", {"X-Hub-Signature": "sha256=abc"}, "bad Zammad webhook signature"),
        ("freshdesk", {}, "missing X-Triage-Webhook-Secret"),
        ("freshdesk", "wrong-secret", "wrong X-Triage-Webhook-Secret"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(
    service_client: TestClient, helpdesk: str, headers: Any, message: str
) -> None:
    payload = {"zendesk": ZENDESK, "zammad": ZAMMAD, "freshdesk": FRESHDESK}[helpdesk]
    body = json.dumps(payload).encode()
    if headers == "wrong-secret":
        headers = SIGN[helpdesk](body, "not-the-secret")
    elif headers == "other-timestamp":
        headers = {**zendesk_headers(body), "X-Zendesk-Webhook-Signature-Timestamp": "2020-01-01T00:00:00Z"}
    count = stored(service_client)
    response = deliver(service_client, helpdesk, payload, headers)
    assert response.status_code == 401 and message in response.json()["detail"]
    assert stored(service_client) == count


def test_a_body_changed_after_signing_is_refused(service_client: TestClient) -> None:
    body = json.dumps(ZAMMAD).encode()
    tampered = body.replace(b"77", b"78")
    response = service_client.post("/v1/webhooks/zammad", content=tampered, headers=zammad_headers(body))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("helpdesk", "payload", "status", "message"),
    [
        ("zendesk", FRESHDESK, 422, "expected an object under 'ticket'"),
        ("zendesk", {"ticket": {"id": 1, "description": "   "}}, 422, "ticket.description is empty"),
        ("zendesk", {"ticket": {"id": True, "description": "x"}}, 422, "ticket.id must be"),
        ("zendesk", {"ticket": {"description": "x"}}, 422, "ticket.id must be"),
        ("freshdesk", ZENDESK, 422, "expected an object under 'freshdesk_webhook'"),
        ("freshdesk", {"freshdesk_webhook": {"ticket_id": 3, "ticket_description": "<p> </p>"}}, 422, "is empty"),
        ("zammad", {"ticket": {"id": 1}}, 422, "expected an object under 'article'"),
        ("zammad", {"ticket": {"id": 1}, "article": {"body": 5}}, 422, "article.body must be a string"),
        ("zammad", [1, 2], 422, "expected an object"),
        ("zendesk", {"ticket": {"id": 9, "description": "ж" * 10_001}}, 422, "the limit is 10000"),
    ],
)
def test_unknown_shapes_are_rejected_and_nothing_is_stored(
    service_client: TestClient, helpdesk: str, payload: Any, status: int, message: str
) -> None:
    count = stored(service_client)
    response = deliver(service_client, helpdesk, payload)
    assert response.status_code == status and message in response.json()["detail"]
    assert stored(service_client) == count


def test_a_signed_body_that_is_not_json_is_a_bad_request(service_client: TestClient) -> None:
    body = b"ticket=1"
    response = service_client.post("/v1/webhooks/zammad", content=body, headers=zammad_headers(body))
    assert response.status_code == 400 and "not JSON" in response.json()["detail"]


def test_webhooks_without_a_configured_secret_are_off(service_model: ServiceModel, tmp_path: Path) -> None:
    settings = service_settings(
        service_model, tmp_path, zendesk_webhook_secret=None, freshdesk_webhook_secret=None, zammad_webhook_secret=None
    )
    with TestClient(create_app(settings)) as client:
        for helpdesk, payload in (("zendesk", ZENDESK), ("freshdesk", FRESHDESK), ("zammad", ZAMMAD)):
            response = deliver(client, helpdesk, payload)
            assert response.status_code == 404
            assert f"TRIAGE_{helpdesk.upper()}_WEBHOOK_SECRET" in response.json()["detail"]


def test_html_is_reduced_to_text_without_markup() -> None:
    assert html_to_text("<div>a<script>x</script> &lt;b&gt;</div><p>c</p>") == "a <b>\nc"
