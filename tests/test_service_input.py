"""Input the service must refuse or answer without a 5xx: bodies that are not UTF-8 JSON, strings no database can
store, texts in other languages, and the text and batch limits stated in the OpenAPI schema."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from serve.app import create_app
from serve.db import Feedback, Ticket
from tests.service_support import bearer, new_key, resources_of
from tests.test_service_webhooks import deliver, zammad_headers
from triage.settings import Settings

INVALID_UTF8 = b'{"text": "\xff\xfe \xd0 not utf-8"}'
BINARY_JUNK = bytes(random.Random(8).randrange(256) for _ in range(512))


def counts(client: TestClient) -> tuple[int, int]:
    """Stored tickets and feedback rows."""
    with resources_of(client.app).database.session() as session:  # type: ignore[arg-type]
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        feedback = session.scalar(select(func.count()).select_from(Feedback)) or 0
    return int(tickets), int(feedback)


@pytest.fixture(scope="module")
def keys(service_client: TestClient) -> dict[str, str]:
    app: Any = service_client.app
    return {role: new_key(app, role) for role in ("ingest", "reviewer", "admin")}


@pytest.fixture(scope="module")
def ticket_id(service_client: TestClient, keys: dict[str, str]) -> int:
    response = service_client.post("/v1/classify", json={"text": "Жду заказ"}, headers=bearer(keys["ingest"]))
    assert response.status_code == 201
    return int(response.json()["id"])


def post_raw(client: TestClient, route: str, body: bytes, keys: dict[str, str], ticket: int) -> Any:
    """`body` as application/json to `route`, with the key (or webhook signature) that route needs."""
    headers = {"Content-Type": "application/json"}
    if route == "webhook":
        return client.post("/v1/webhooks/zammad", content=body, headers={**headers, **zammad_headers(body)})
    path, role = {
        "classify": ("/v1/classify", "ingest"),
        "batch": ("/v1/classify/batch", "ingest"),
        "feedback": (f"/v1/tickets/{ticket}/feedback", "reviewer"),
        "keys": ("/v1/keys", "admin"),
    }[route]
    return client.post(path, content=body, headers={**headers, **bearer(keys[role])})


@pytest.mark.parametrize("route", ["classify", "batch", "feedback", "keys", "webhook"])
def test_a_body_that_is_not_utf8_is_a_bad_request_that_says_so(
    service_client: TestClient, keys: dict[str, str], ticket_id: int, route: str
) -> None:
    before = counts(service_client)
    response = post_raw(service_client, route, INVALID_UTF8, keys, ticket_id)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "not JSON" in detail and "'utf-8' codec can't decode byte 0xff" in detail
    assert counts(service_client) == before


@pytest.mark.parametrize("route", ["classify", "batch", "feedback", "keys", "webhook"])
@pytest.mark.parametrize("junk", [BINARY_JUNK, b"\x00\x01\x02\x03" * 8, b"\x89PNG\r\n\x1a\n" + bytes(range(64))])
def test_binary_junk_is_refused_with_a_json_error(
    service_client: TestClient, keys: dict[str, str], ticket_id: int, route: str, junk: bytes
) -> None:
    before = counts(service_client)
    response = post_raw(service_client, route, junk, keys, ticket_id)
    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"] == "application/json"
    assert "JSON" in json.dumps(response.json()["detail"])
    assert counts(service_client) == before


UNSTORABLE: list[tuple[str, bytes, str]] = [
    ("classify", b'{"text": "\\u0416\\u0434\\u0443 \\u0000 \\u0437\\u0430\\u043a\\u0430\\u0437"}', "NUL character"),
    ("classify", b'{"text": "Jdu", "subject": "a\\u0000b"}', "NUL character"),
    ("classify", b'{"text": "Jdu", "external_id": "crm\\u0000"}', "NUL character"),
    ("classify", b'{"text": "Jdu \\ud800 zakaz"}', "unicode"),
    ("batch", b'{"items": [{"text": "ok"}, {"text": "x\\u0000"}]}', "NUL character"),
    ("keys", b'{"name": "bot\\u0000", "role": "ingest"}', "NUL character"),
    ("webhook", b'{"ticket": {"id": 1}, "article": {"body": "Jdu \\u0000"}}', "article.body contains a NUL"),
    ("webhook", b'{"ticket": {"id": 2}, "article": {"body": "Jdu \\udc00"}}', "article.body is not valid Unicode"),
    ("webhook", b'{"ticket": {"id": 3, "title": "\\u0000"}, "article": {"body": "x"}}', "ticket.title contains"),
    ("webhook", b'{"ticket": {"id": "a\\u0000"}, "article": {"body": "x"}}', "ticket.id contains a NUL"),
    ("webhook", json.dumps({"ticket": {"id": "7" * 201}, "article": {"body": "x"}}).encode(), "longer than 200"),
]


@pytest.mark.parametrize(("route", "body", "message"), UNSTORABLE)
def test_strings_no_database_can_store_are_refused(
    service_client: TestClient, keys: dict[str, str], ticket_id: int, route: str, body: bytes, message: str
) -> None:
    """NUL characters (PostgreSQL text cannot hold them) and lone surrogates (not Unicode): a 422, not a 500."""
    before = counts(service_client)
    response = post_raw(service_client, route, body, keys, ticket_id)
    assert response.status_code == 422, response.text
    assert message in json.dumps(response.json()["detail"], ensure_ascii=False)
    assert counts(service_client) == before


OTHER_LANGUAGES = {
    "english": "My order never arrived and nobody answers the phone. I want my money back!",
    "german": "Meine Bestellung ist nach drei Wochen immer noch nicht angekommen, ich will mein Geld zurück.",
    "chinese": "我的订单三周了还没有到，客服也不接电话，请退款。",
    "emoji": "😡😡😡 👎👎",
    "digits": "12345 678 90",
}


def assert_other_with_low_confidence(ticket: dict[str, Any]) -> None:
    assert ticket["lang"] == "other"
    assert {label["confidence"] for label in ticket["labels"].values()} == {"low"}
    assert ticket["needs_review"] is True and ticket["remedies"]["mode"] == "human_review"
    assert {"triage_lang_other", "triage_needs_review"} <= set(ticket["tags"])


@pytest.mark.parametrize("text", OTHER_LANGUAGES.values(), ids=OTHER_LANGUAGES.keys())
def test_a_text_in_another_language_is_answered_as_other_with_low_confidence(
    service_client: TestClient, keys: dict[str, str], text: str
) -> None:
    response = service_client.post("/v1/classify", json={"text": text}, headers=bearer(keys["ingest"]))
    assert response.status_code == 201, response.text
    assert_other_with_low_confidence(response.json())


def test_other_languages_in_a_batch_and_a_webhook(service_client: TestClient, keys: dict[str, str]) -> None:
    items = [{"text": text} for text in OTHER_LANGUAGES.values()]
    batch = service_client.post("/v1/classify/batch", json={"items": items}, headers=bearer(keys["ingest"]))
    assert batch.status_code == 200, batch.text
    for ticket in batch.json()["items"]:
        assert_other_with_low_confidence(ticket)
    payload = {"ticket": {"id": 4242, "title": "Refund"}, "article": {"body": OTHER_LANGUAGES["english"]}}
    hook = deliver(service_client, "zammad", payload)
    assert hook.status_code == 200 and hook.json()["created"] is True
    assert_other_with_low_confidence(hook.json()["ticket"])


def test_openapi_states_the_configured_text_and_batch_limits(service_client: TestClient) -> None:
    settings = resources_of(service_client.app).settings  # type: ignore[arg-type]
    served = service_client.get("/openapi.json").json()["components"]["schemas"]
    assert served["ClassifyRequest"]["properties"]["text"]["maxLength"] == settings.max_text_chars == 10_000
    assert served["BatchRequest"]["properties"]["items"]["maxItems"] == settings.max_batch == 64
    other = create_app(Settings(_env_file=None, max_text_chars=500, max_batch=8)).openapi()  # type: ignore[call-arg]
    assert other["components"]["schemas"]["ClassifyRequest"]["properties"]["text"]["maxLength"] == 500
    assert other["components"]["schemas"]["BatchRequest"]["properties"]["items"]["maxItems"] == 8
