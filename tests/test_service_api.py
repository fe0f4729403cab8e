"""The /v1 classify API: results, idempotency, bad input, roles on every route, keys, OpenAPI."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from types import SimpleNamespace
from typing import Any, get_args

import pytest
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from model.labels import ALL_LABELS, CHANNELS
from model.predictor import LabelPrediction, Prediction
from remedies.engine import plan_remedies
from serve import auth
from serve.db import Ticket
from serve.schemas import Channel
from tests.service_support import bearer, new_key, resources_of

RU = "Жду заказ третью неделю, деньги списали, верните деньги!"
RO = "Comanda nu a ajuns, vreau banii inapoi."
BG = "Поръчката не пристигна, върнете парите."


def stored_tickets(client: TestClient) -> int:
    with resources_of(client.app).database.session() as session:  # type: ignore[arg-type]
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


@pytest.fixture(scope="module")
def keys(service_client: TestClient) -> dict[str, str]:
    app = service_client.app
    return {role: new_key(app, role) for role in ("ingest", "reviewer", "manager", "admin")}  # type: ignore[arg-type]


def classify(client: TestClient, key: str, **body: Any) -> Any:
    return client.post("/v1/classify", json=body, headers=bearer(key))


def test_classify_returns_every_label_remedies_and_the_stored_ticket(
    service_client: TestClient, keys: dict[str, str]
) -> None:
    response = classify(service_client, keys["ingest"], text=RU, subject="Где заказ?", lifetime_value=1000, margin=0.2)
    assert response.status_code == 201, response.text
    result = response.json()
    resources = resources_of(service_client.app)  # type: ignore[arg-type]
    assert result["model_version"] == resources.classifier.version
    assert set(result["labels"]) == set(ALL_LABELS)
    for label in result["labels"].values():
        assert 0.0 <= label["prob"] <= 1.0 and isinstance(label["decision"], bool)
        assert label["confidence"] in {"high", "medium", "low"}
    assert result["final_labels"] == {name: label["decision"] for name, label in result["labels"].items()}
    assert result["lang"] in {"ru", "ro", "bg", "other"} and result["text"] == "Где заказ?\n" + RU
    # the remedies are the engine's plan for exactly this prediction
    prediction = Prediction(
        result["lang"], result["lang_prob"], {n: LabelPrediction(**v) for n, v in result["labels"].items()}
    )
    plan = plan_remedies(prediction, resources.classifier.playbook, lifetime_value=1000, margin=0.2).to_json()
    assert [s["id"] for s in result["remedies"]["suggestions"]] == [s["id"] for s in plan["suggestions"]]
    assert result["remedies"]["mode"] == plan["mode"] and result["remedies"]["budget"]["ceiling"] == pytest.approx(
        plan["budget"]["ceiling"]
    )
    assert result["needs_review"] == (plan["mode"] == "human_review")
    costs = [
        f"triage_cost_{name}" for name in ("economic", "time", "social", "emotional") if result["final_labels"][name]
    ]
    assert result["tags"][: len(costs)] == costs and f"triage_lang_{result['lang']}" in result["tags"]
    stored = service_client.get(f"/v1/tickets/{result['id']}", headers=bearer(keys["reviewer"]))
    assert stored.status_code == 200 and stored.json()["labels"] == result["labels"]


def test_remedy_titles_follow_the_manager_language(service_client: TestClient, keys: dict[str, str]) -> None:
    playbook = {r.id: r for r in resources_of(service_client.app).classifier.playbook.remedies}  # type: ignore[arg-type]
    for lang in ("ru", "ro", "bg", "en"):
        response = service_client.post(
            f"/v1/classify?manager_lang={lang}", json={"text": BG}, headers=bearer(keys["ingest"])
        )
        plan = response.json()["remedies"]
        assert plan["manager_lang"] == lang and plan["suggestions"]
        for suggestion in plan["suggestions"]:
            assert suggestion["title"] == playbook[suggestion["id"]].title.text(lang)
    bad = service_client.post("/v1/classify?manager_lang=de", json={"text": BG}, headers=bearer(keys["ingest"]))
    assert bad.status_code == 422


def test_same_external_id_returns_the_stored_ticket_without_classifying_again(
    service_client: TestClient, keys: dict[str, str]
) -> None:
    first = classify(service_client, keys["ingest"], text=RO, external_id="crm-7")
    count = stored_tickets(service_client)
    again = classify(service_client, keys["ingest"], text="another text entirely", external_id="crm-7")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["text"] == RO
    assert stored_tickets(service_client) == count


def test_batch_classifies_in_order_up_to_the_maximum(service_client: TestClient, keys: dict[str, str]) -> None:
    items = [{"text": RU, "external_id": "b-ru"}, {"text": RO}, {"text": BG, "channel": "chat"}]
    response = service_client.post("/v1/classify/batch", json={"items": items}, headers=bearer(keys["ingest"]))
    assert response.status_code == 200, response.text
    results = response.json()["items"]
    assert [r["text"] for r in results] == [RU, RO, BG]
    assert len({r["id"] for r in results}) == 3 and results[2]["channel"] == "chat"
    count = stored_tickets(service_client)
    limit = resources_of(service_client.app).settings.max_batch  # type: ignore[arg-type]
    over = service_client.post(
        "/v1/classify/batch", json={"items": [{"text": RU}] * (limit + 1)}, headers=bearer(keys["ingest"])
    )
    assert over.status_code == 422 and f"limit is {limit}" in over.json()["detail"]
    assert stored_tickets(service_client) == count


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"text": ""}, "at least 1 character"),
        ({"text": "   \n\t"}, "text is blank"),
        ({"text": "ж" * 10_001}, "the limit is 10000"),
        ({"text": 123}, "valid string"),
        ({}, "Field required"),
        ({"text": RU, "colour": "red"}, "Extra inputs"),
        ({"text": RU, "channel": "fax"}, "channel"),
        ({"text": RU, "margin": 2}, "less than or equal to 1"),
        ({"text": RU, "external_id": ""}, "at least 1 character"),
    ],
)
def test_bad_single_input_is_rejected_and_nothing_is_stored(
    service_client: TestClient, keys: dict[str, str], body: dict[str, Any], expected: str
) -> None:
    count = stored_tickets(service_client)
    response = service_client.post("/v1/classify", json=body, headers=bearer(keys["ingest"]))
    assert response.status_code == 422
    assert expected in str(response.json()["detail"])
    assert stored_tickets(service_client) == count


@pytest.mark.parametrize(
    "body",
    [{"items": []}, {"items": [{"text": RU}, {"text": " "}]}, {"items": [{"text": RU}, {"text": "x" * 10_001}]}, {}],
)
def test_bad_batch_is_rejected_whole(service_client: TestClient, keys: dict[str, str], body: dict[str, Any]) -> None:
    count = stored_tickets(service_client)
    response = service_client.post("/v1/classify/batch", json=body, headers=bearer(keys["ingest"]))
    assert response.status_code == 422, response.text
    assert stored_tickets(service_client) == count


def test_malformed_json_and_oversized_bodies_are_rejected(service_client: TestClient, keys: dict[str, str]) -> None:
    headers = {**bearer(keys["ingest"]), "Content-Type": "application/json"}
    malformed = service_client.post("/v1/classify", content=b'{"text": ', headers=headers)
    assert malformed.status_code == 422 and "json_invalid" in malformed.text
    huge = service_client.post("/v1/classify", content=b"x" * 4_000_001, headers=headers)
    assert huge.status_code == 413 and "the limit is 4000000" in huge.json()["detail"]


ROUTES: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/classify", {"text": RU}, {"ingest", "admin"}),
    ("POST", "/v1/classify/batch", {"items": [{"text": RU}]}, {"ingest", "admin"}),
    ("GET", "/v1/tickets", None, {"reviewer", "manager", "admin"}),
    ("GET", "/v1/tickets/1", None, {"reviewer", "manager", "admin"}),
    ("GET", "/v1/tickets/999999", None, {"reviewer", "manager", "admin"}),
    ("POST", "/v1/tickets/1/feedback", {"verdict": "confirm"}, {"reviewer", "manager", "admin"}),
    ("GET", "/v1/stats/daily", None, {"reviewer", "manager", "admin"}),
    ("GET", "/v1/keys", None, {"admin"}),
    ("POST", "/v1/keys", {"name": "x", "role": "ingest"}, {"admin"}),
    ("DELETE", "/v1/keys/999", None, {"admin"}),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES)
def test_every_route_needs_a_key_of_an_allowed_role(
    service_client: TestClient,
    keys: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    allowed: set[str],
) -> None:
    classify(service_client, keys["ingest"], text=RU)  # ticket 1 exists
    missing = service_client.request(method, path, json=body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json() == {"detail": "missing API key (Authorization: Bearer)"}
    wrong = service_client.request(method, path, json=body, headers=bearer("trk_not-a-real-key"))
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid or revoked API key"
    basic = service_client.request(method, path, json=body, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert basic.status_code == 401
    for role, key in keys.items():
        response = service_client.request(method, path, json=body, headers=bearer(key))
        if role in allowed:
            assert response.status_code in {200, 201, 404}, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert f"a {role} key may not do this" in response.json()["detail"]


PAGE_LOGIN = "the web page's login cookie, of a reviewer, manager or admin key"
OTHER_GUARDS: dict[tuple[str, str], str] = {
    ("POST", "/v1/webhooks/zendesk"): "the helpdesk's signature (tests/test_service_webhooks.py)",
    ("POST", "/v1/webhooks/freshdesk"): "the helpdesk's shared secret (tests/test_service_webhooks.py)",
    ("POST", "/v1/webhooks/zammad"): "the helpdesk's signature (tests/test_service_webhooks.py)",
    ("GET", "/ui/"): PAGE_LOGIN,
    ("GET", "/ui/tickets/{ticket_id}"): PAGE_LOGIN,
    ("POST", "/ui/tickets/{ticket_id}/review"): PAGE_LOGIN,
    ("GET", "/ui/stats.json"): PAGE_LOGIN,
    ("GET", "/ui/login"): "public: the login form",
    ("POST", "/ui/login"): "public: checks the key it is given",
    ("POST", "/ui/logout"): "public: drops the cookie",
    ("MOUNT", "/ui/static"): "public: the page's own CSS and script",
    ("GET", "/"): "public: a redirect to /ui/",
    ("GET", "/healthz"): "public: liveness probe",
    ("GET", "/readyz"): "public: readiness probe",
    ("GET", "/metrics"): "public: Prometheus scraping",
    ("GET", "/openapi.json"): "public: API documentation",
    ("GET", "/docs"): "public: API documentation",
    ("GET", "/docs/oauth2-redirect"): "public: API documentation",
    ("GET", "/redoc"): "public: API documentation",
}
"""Every route of the app that is not behind an API key's role (`ROUTES`), and what guards it instead."""


def app_routes(client: TestClient) -> dict[tuple[str, str], RouteContext]:
    """Every (method, path template) the app serves, included routers' routes too; a mount counts once, as MOUNT."""
    found: dict[tuple[str, str], RouteContext] = {}
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        for method in route.methods or {"MOUNT"}:
            if method != "HEAD" and route.path is not None:
                found[(method, route.path)] = route
    return found


def test_every_route_of_the_app_is_in_an_access_table(service_client: TestClient) -> None:
    """A new route fails here until it is added to `ROUTES` (with its roles) or to `OTHER_GUARDS`."""
    served = app_routes(service_client)
    keyed: set[tuple[str, str]] = set()
    for method, path, _, _ in ROUTES:
        matched = {key for key, route in served.items() if key[0] == method and route.path_regex.fullmatch(path)}
        assert len(matched) == 1, (method, path, matched)
        keyed |= matched
    assert not keyed & set(OTHER_GUARDS)
    assert keyed | set(OTHER_GUARDS) == set(served)


@pytest.mark.parametrize(("method", "path"), [key for key, guard in OTHER_GUARDS.items() if guard == PAGE_LOGIN])
def test_every_page_route_needs_the_login_of_a_reviewing_role(
    service_client: TestClient, keys: dict[str, str], method: str, path: str
) -> None:
    classify(service_client, keys["ingest"], text=RU)  # ticket 1 exists
    url = path.replace("{ticket_id}", "1")
    form = {"verdict": "confirm"} if method == "POST" else None
    service_client.cookies.clear()
    for cookie in ({}, {"Cookie": "triage_key=trk_not-a-real-key"}, {"Cookie": f"triage_key={keys['ingest']}"}):
        refused = service_client.request(method, url, data=form, headers=cookie, follow_redirects=False)
        if path.endswith(".json"):
            assert refused.status_code == 401 and refused.json() == {"detail": "log in first"}
        else:
            assert refused.status_code == 303 and refused.headers["location"] == "/ui/login"
    for role in ("reviewer", "manager", "admin"):
        cookie = {"Cookie": f"triage_key={keys[role]}"}
        admitted = service_client.request(method, url, data=form, headers=cookie, follow_redirects=False)
        assert admitted.status_code in {200, 303}, (role, admitted.text)
        assert admitted.headers.get("location") != "/ui/login", role


def test_keys_are_stored_only_as_their_hash_and_compared_in_constant_time(
    service_client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = service_client.post("/v1/keys", json={"name": "hashed", "role": "ingest"}, headers=bearer(keys["admin"]))
    key = created.json()["key"]
    database = resources_of(service_client.app).database  # type: ignore[arg-type]
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM api_keys").fetchall()
    assert rows and not any(key in str(value) for row in rows for value in row)
    stored = [row for row in rows if row.name == "hashed"]
    assert [row.key_hash for row in stored] == [hashlib.sha256(key.encode()).hexdigest()]

    compared: list[tuple[str, str]] = []

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(auth, "hmac", SimpleNamespace(compare_digest=spy))
    assert classify(service_client, key, text=RU).status_code == 201
    assert compared == [(stored[0].key_hash, stored[0].key_hash)]


def test_admin_creates_lists_and_revokes_keys(service_client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    created = service_client.post("/v1/keys", json={"name": "helpdesk", "role": "ingest"}, headers=admin)
    assert created.status_code == 201
    new = created.json()
    assert new["key"].startswith("trk_") and len(new["key"]) > 40 and new["role"] == "ingest"
    listed = service_client.get("/v1/keys", headers=admin).json()
    assert any(k["id"] == new["id"] and k["revoked_at"] is None for k in listed)
    assert new["key"] not in str(listed) and all("key" not in k for k in listed)
    assert classify(service_client, new["key"], text=RU).status_code == 201
    revoked = service_client.delete(f"/v1/keys/{new['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert classify(service_client, new["key"], text=RU).status_code == 401
    assert service_client.delete("/v1/keys/99999", headers=admin).status_code == 404
    bad_role = service_client.post("/v1/keys", json={"name": "x", "role": "root"}, headers=admin)
    assert bad_role.status_code == 422


def test_inference_runs_in_a_worker_thread_not_on_the_event_loop(
    service_client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = resources_of(service_client.app).classifier.predictor  # type: ignore[arg-type]
    original = predictor.predict
    loops: list[bool] = []

    def spy(texts: Any) -> Any:
        try:
            asyncio.get_running_loop()
            loops.append(True)
        except RuntimeError:
            loops.append(False)
        return original(texts)

    monkeypatch.setattr(predictor, "predict", spy)
    assert classify(service_client, keys["ingest"], text=RU).status_code == 201
    assert loops == [False]


def test_channel_choices_are_the_corpus_channels() -> None:
    assert get_args(Channel) == CHANNELS


def test_openapi_documents_the_versioned_api_with_examples(service_client: TestClient) -> None:
    schema = service_client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/classify", "/v1/classify/batch", "/v1/tickets", "/v1/tickets/{ticket_id}/feedback"):
        assert path in paths
    for helpdesk in ("zendesk", "freshdesk", "zammad"):
        body = paths[f"/v1/webhooks/{helpdesk}"]["post"]["requestBody"]["content"]["application/json"]
        assert body["example"]
    components = schema["components"]["schemas"]
    assert components["ClassifyRequest"]["examples"][0]["text"]
    assert components["TicketOut"]["examples"][0]["labels"]["economic"]["prob"] == 0.93
    assert components["FeedbackRequest"]["examples"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert set(paths["/v1/classify"]["post"]["responses"]) >= {"200", "201", "401", "403", "413", "422"}
