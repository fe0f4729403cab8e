"""The manager web page: login, inbox, escaping, review form, language; and an end-to-end run in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from serve.app import create_app
from serve.db import Feedback
from serve.web import HERE
from tests.live_server import serve_in_thread
from tests.service_support import ServiceModel, bearer, new_key, resources_of, service_settings

HOSTILE = 'Жду деньги <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> & "верните"'
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def page_keys(service_client: TestClient) -> dict[str, str]:
    app: Any = service_client.app
    keys = {role: new_key(app, role, f"{role}-web") for role in ("ingest", "reviewer", "manager")}
    response = service_client.post("/v1/classify", json={"text": HOSTILE}, headers=bearer(keys["ingest"]))
    assert response.status_code == 201
    service_client.post("/v1/classify", json={"text": "Comanda nu a ajuns"}, headers=bearer(keys["ingest"]))
    return keys


def logged_in(client: TestClient, key: str) -> TestClient:
    response = client.post("/ui/login", data={"key": key}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    return client


def test_pages_need_a_login(service_client: TestClient) -> None:
    service_client.cookies.clear()
    for path in ("/", "/ui/", "/ui/tickets/1"):
        response = service_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] in {"/ui/", "/ui/login"}
    assert service_client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"
    stats = service_client.get("/ui/stats.json")
    assert stats.status_code == 401 and stats.json() == {"detail": "log in first"}


def test_login_accepts_only_reviewer_manager_and_admin_keys(
    service_client: TestClient, page_keys: dict[str, str]
) -> None:
    service_client.cookies.clear()
    bad = service_client.post("/ui/login", data={"key": "trk_nope"})
    assert bad.status_code == 401 and "Unknown or revoked key." in bad.text
    ingest = service_client.post("/ui/login", data={"key": page_keys["ingest"]})
    assert ingest.status_code == 403 and "This key may not use the page." in ingest.text
    ok = service_client.post("/ui/login", data={"key": page_keys["manager"]}, follow_redirects=False)
    cookie = ok.headers["set-cookie"]
    assert ok.status_code == 303 and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    out = service_client.post("/ui/logout", follow_redirects=False)
    assert out.status_code == 303 and service_client.get("/ui/", follow_redirects=False).status_code == 303


def test_inbox_escapes_ticket_text_and_shows_tags_and_actions(
    service_client: TestClient, page_keys: dict[str, str]
) -> None:
    page = logged_in(service_client, page_keys["reviewer"]).get("/ui/")
    assert page.status_code == 200
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page.text
    assert "<script>window.pwned" not in page.text and "<img src=x" not in page.text
    assert page.text.count('<tr class="ticket') == 2
    assert re.search(r'<ul class="actions"><li>[^<]+</li>', page.text)
    lang = service_client.get("/v1/tickets/2", headers=bearer(page_keys["reviewer"])).json()["lang"]
    expected = service_client.get("/v1/tickets", params={"lang": lang}, headers=bearer(page_keys["reviewer"]))
    filtered = service_client.get("/ui/", params={"lang": lang})
    assert filtered.text.count('<tr class="ticket') == expected.json()["total"] >= 1
    assert "Comanda nu a ajuns" in filtered.text


def test_manager_language_switches_words_and_remedy_titles(
    service_client: TestClient, page_keys: dict[str, str]
) -> None:
    client = logged_in(service_client, page_keys["reviewer"])
    app: Any = service_client.app
    playbook = resources_of(app).classifier.playbook
    russian = client.get("/ui/", params={"ml": "ru"})
    assert "Входящие" in russian.text and '<html lang="ru">' in russian.text
    titles = re.findall(r"<li>([^<]+)</li>", russian.text.split('id="inbox"')[1])
    assert titles and all(t in {r.title.ru for r in playbook.remedies} for t in titles)
    assert "Входящие" in client.get("/ui/").text  # remembered in a cookie
    assert "Обращение 1" in client.get("/ui/tickets/1").text
    client.get("/ui/tickets/1", params={"ml": "bg"})
    assert "Входящи" in client.get("/ui/").text and "Входящие" not in client.get("/ui/").text
    assert "Inbox" in client.get("/ui/", params={"ml": "en"}).text


def test_review_form_confirms_and_corrects(service_client: TestClient, page_keys: dict[str, str]) -> None:
    client = logged_in(service_client, page_keys["reviewer"])
    page = client.get("/ui/tickets/1")
    assert page.status_code == 200 and "&lt;img src=x" in page.text
    confirmed = client.post("/ui/tickets/1/review", data={"verdict": "confirm"}, follow_redirects=False)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/ui/tickets/1?saved=1"
    corrected = client.post(
        "/ui/tickets/1/review", data={"verdict": "correct", "label": ["time", "is_complaint"], "lang": "ru"}
    )
    assert corrected.status_code == 200 and "Feedback saved." in corrected.text
    app: Any = service_client.app
    with resources_of(app).database.session() as session:
        rows = session.scalars(select(Feedback).where(Feedback.ticket_id == 1).order_by(Feedback.id)).all()
    assert [r.verdict for r in rows] == ["confirm", "correct"] and rows[-1].reviewer == "reviewer-web"
    assert {name for name, value in rows[-1].labels.items() if value} == {"time", "is_complaint"}
    assert client.post("/ui/tickets/1/review", data={"verdict": "delete"}).status_code == 422
    assert client.get("/ui/tickets/999").status_code == 404


def test_page_assets_are_local_and_never_build_html_from_data() -> None:
    script = (HERE / "static" / "app.js").read_text()
    assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
    for template in (HERE / "templates").glob("*.html"):
        text = template.read_text()
        assert "| safe" not in text and "|safe" not in text and "http://" not in text and "https://" not in text


@pytest.fixture(scope="module")
def live_server(service_model: ServiceModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    """The app under uvicorn on a free loopback port, in a thread."""
    app = create_app(service_settings(service_model, tmp_path_factory.mktemp("live")))
    with serve_in_thread(app) as url:
        yield url, app


def test_end_to_end_in_headless_chromium(live_server: tuple[str, FastAPI]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    url, app = live_server
    ingest, reviewer = new_key(app, "ingest"), new_key(app, "reviewer", "rita")
    created = httpx.post(
        f"{url}/v1/classify", json={"text": HOSTILE, "subject": "<b>Срочно</b>"}, headers=bearer(ingest)
    )
    assert created.status_code == 201
    ticket = created.json()
    flipped = not ticket["final_labels"]["economic"]

    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        # playwright starts Chromium on a new, empty temporary profile
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        page.goto(f"{url}/ui/")
        assert page.url.endswith("/ui/login")
        page.fill("#key", reviewer)
        page.click("#login")
        page.wait_for_url(f"{url}/ui/")
        row = page.locator(f'tr[data-ticket-id="{ticket["id"]}"]')
        shown = row.locator("td.text").inner_text()
        assert shown.startswith("<b>Срочно</b>") and "<script>window.pwned = 1</script>" in shown
        page.wait_for_selector('#chart[data-drawn="true"]')
        assert page.locator("#chart polyline").count() == 5
        assert page.evaluate("window.pwned") is None

        page.select_option("#manager-lang", "bg")
        page.wait_for_url(re.compile(r".*ml=bg.*"))
        assert page.locator("h1").first.inner_text().startswith("Входящи")

        page.click(f'tr[data-ticket-id="{ticket["id"]}"] a')
        page.wait_for_selector("#review")
        assert page.locator("#ticket-text").inner_text() == ticket["text"]
        page.set_checked("#label-economic", flipped)
        page.select_option("#review-lang", "ru")
        page.click("#correct")
        page.wait_for_selector("#saved")
        assert "rita" in page.locator("#reviews").inner_text()
        assert page.evaluate("window.pwned") is None
        browser.close()

    assert problems == []
    with resources_of(app).database.session() as session:
        feedback = session.scalars(select(Feedback).where(Feedback.ticket_id == ticket["id"])).one()
    assert feedback.reviewer == "rita" and feedback.verdict == "correct" and feedback.lang == "ru"
    assert feedback.labels["economic"] is flipped
    assert {k: v for k, v in feedback.labels.items() if k != "economic"} == {
        k: v for k, v in ticket["final_labels"].items() if k != "economic"
    }
