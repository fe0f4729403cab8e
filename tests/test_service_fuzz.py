"""Property-based fuzzing of every operation in the app's OpenAPI schema with schemathesis, in-process over ASGI.

Valid and invalid requests alike must never get a 5xx, and every answer must be documented: its status code,
content type and body schema. Examples per operation are bounded so the module stays quick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from serve.app import create_app
from serve.auth import Role, create_key
from serve.metrics import Metrics
from serve.resources import Resources, load_resources
from serve.service import classify_tickets
from serve.store import NewTicket
from tests.service_support import ServiceModel, bearer, new_key, service_settings
from tests.test_service_webhooks import SIGN
from triage.settings import Settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SEEDED_TICKETS = ("Жду заказ третью неделю, верните деньги", "Comanda nu a ajuns", "Поръчката не пристигна")
FUZZ = settings(
    max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), print_blob=True
)


@pytest.fixture(scope="module")
def fuzzed(
    service_model: ServiceModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, Resources]]:
    """An app on its own database, its resources loaded here so that its store can already hold a few tickets.

    Schemathesis runs the app's lifespan around each test's requests; with resources given, the lifespan only
    starts and stops the micro-batcher.
    """
    config = service_settings(service_model, tmp_path_factory.mktemp("fuzz"))
    resources = load_resources(config, Metrics())
    with resources.database.session() as session:
        classify_tickets(resources, session, [NewTicket("api", None, None, text) for text in SEEDED_TICKETS])
    yield create_app(config, resources), resources
    resources.database.close()


def admin_key(resources: Resources) -> dict[str, str]:
    """A fresh admin key per example: a fuzzed `DELETE /v1/keys/{key_id}` may revoke the one it is sent with."""
    with resources.database.session() as session:
        _, key = create_key(session, "fuzz-admin", Role.admin)
    return bearer(key)


schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None)).openapi(),  # type: ignore[call-arg]  # the schema does not depend on settings
    config=schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}}),
)
"""The app's OpenAPI schema. Schemathesis leaves the `Authorization` header alone: each test sets it (or not)."""


@schema.parametrize()
@FUZZ
def test_every_operation_with_an_admin_key(case: schemathesis.Case, fuzzed: tuple[FastAPI, Resources]) -> None:
    """Admin keys may use every route, so the generated input itself decides the answer."""
    app, resources = fuzzed
    case.call_and_validate(app=app, headers=admin_key(resources), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_every_operation_without_a_key(case: schemathesis.Case, fuzzed: tuple[FastAPI, Resources]) -> None:
    """Without a key (or, for webhooks, a signature) every `/v1` route refuses with a documented 4xx."""
    app, _ = fuzzed
    response = case.call_and_validate(app=app, checks=CHECKS)
    if case.path.startswith("/v1/"):
        assert 400 <= response.status_code < 500, (case.method, case.path, response.status_code)


def signed_by(helpdesk: str) -> Callable[[Any], Any]:
    """A `requests` auth hook signing the body exactly as sent, the way `helpdesk` does."""

    def sign(request: Any) -> Any:
        body = request.body or b""
        request.headers.update(SIGN[helpdesk](body.encode() if isinstance(body, str) else body))
        return request

    return sign


@schema.include(path_regex="^/v1/webhooks/").parametrize()
@FUZZ
def test_webhooks_with_valid_signatures(case: schemathesis.Case, fuzzed: tuple[FastAPI, Resources]) -> None:
    """Correctly signed bodies of any shape: a stored ticket for a helpdesk's payload, else a documented 4xx."""
    app, _ = fuzzed
    response = case.call_and_validate(app=app, auth=signed_by(case.path.rsplit("/", 1)[1]), checks=CHECKS)
    assert response.status_code != 401, response.text


TOO_BIG_ID = 2**63  # overflowed SQLite's INTEGER: a 500 before ids were bounded


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/v1/classify", {"text": "Жду деньги", "margin": False}, "valid number"),
        ("POST", "/v1/classify", {"text": "Жду деньги", "lifetime_value": "100"}, "valid number"),
        ("POST", "/v1/tickets/1/feedback", {"verdict": "correct", "labels": {"churn": 1}}, "valid boolean"),
        ("POST", f"/v1/tickets/{TOO_BIG_ID}/feedback", {"verdict": "confirm"}, "less than or equal to 2147483647"),
        ("GET", f"/v1/tickets/{TOO_BIG_ID}", None, "less than or equal to 2147483647"),
        ("DELETE", f"/v1/keys/{TOO_BIG_ID}", None, "less than or equal to 2147483647"),
        ("GET", f"/v1/tickets?offset={TOO_BIG_ID}", None, "less than or equal to 2147483647"),
        ("GET", "/v1/tickets?until=0.5", None, "ISO 8601"),
        ("GET", "/v1/tickets?since=0001-01-01T00:00:00%2B00:01", None, "ISO 8601"),
        ("POST", "/v1/keys", {"name": "\r", "role": "admin"}, "name is blank"),
    ],
    ids=[
        "bool-as-number",
        "string-as-number",
        "number-as-bool",
        "huge-ticket-id-feedback",
        "huge-ticket-id",
        "huge-key-id",
        "huge-offset",
        "unix-time",
        "before-year-1-utc",
        "blank-key-name",
    ],
)
def test_inputs_the_fuzzer_found_are_refused_with_a_clear_422(
    service_client: TestClient, method: str, path: str, body: dict[str, Any] | None, expected: str
) -> None:
    """Each of these once got a 500 or was silently accepted; now a 422 that says what is wrong, nothing written."""
    headers = bearer(new_key(service_client.app, "admin"))  # type: ignore[arg-type]
    service_client.post("/v1/classify", json={"text": SEEDED_TICKETS[0]}, headers=headers)  # ticket 1 exists

    def state() -> list[Any]:
        return [service_client.get(route, headers=headers).json() for route in ("/v1/tickets", "/v1/keys")]

    before = state()
    response = service_client.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert expected in str(response.json()["detail"])
    assert state() == before
