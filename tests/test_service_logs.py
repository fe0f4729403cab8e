"""The service's logs hold no API key and no complaint text: a real `triage serve` process, every logger at INFO,
driven through classify, batch, webhook, feedback, the login form and refused requests."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from serve.auth import KEY_PREFIX
from serve.db import open_database
from tests.live_server import ServedProcess, free_port, service_env
from tests.service_support import ServiceModel, bearer
from tests.test_service_webhooks import zammad_headers

INGEST_KEY = KEY_PREFIX + secrets.token_urlsafe(32)
REVIEWER_KEY = "bootstrap-" + secrets.token_urlsafe(24)
"""A key as a bootstrap file may give it, without the `trk_` prefix."""
COMPLAINT = "Квазимодо-7731 пишет: посылку с фиолетовым кенгуру так и не привезли, деньги списали дважды."
WEBHOOK_TEXT = "Zambezi-4412: comanda cu papagalul portocaliu nu a ajuns, vreau banii înapoi."
FRAGMENTS = ("Квазимодо", "кенгуру", "Zambezi", "papagalul", "kvazimodo", "0721")
"""Pieces of the texts sent, any of which in a log would mean complaint text was logged."""
INFO_LOGGING = (
    "import logging; logging.basicConfig(level=logging.INFO); "
    "logging.getLogger('sqlalchemy.engine').setLevel(logging.INFO); from triage.cli import app; app()"
)
"""`triage serve` with every logger at INFO, SQLAlchemy's log of statements included."""


def drive(url: str, database: Path) -> None:
    """Every kind of request the service answers, with the keys and texts above; last, a server error."""
    with httpx.Client(base_url=url, timeout=30) as client:
        ingest, reviewer = bearer(INGEST_KEY), bearer(REVIEWER_KEY)
        body = {"text": COMPLAINT + " Пишите kvazimodo@example.ru", "subject": "Квазимодо-7731"}
        created = client.post("/v1/classify", json=body, headers=ingest)
        assert created.status_code == 201, created.text
        ticket = created.json()["id"]
        batch = client.post("/v1/classify/batch", json={"items": [{"text": COMPLAINT}]}, headers=ingest)
        assert batch.status_code == 200
        payload = json.dumps({"ticket": {"id": 55}, "article": {"body": WEBHOOK_TEXT + " tel. 0721 234 567"}})
        hook = client.post("/v1/webhooks/zammad", content=payload, headers=zammad_headers(payload.encode()))
        assert hook.status_code == 200, hook.text
        review = client.post(f"/v1/tickets/{ticket}/feedback", json={"verdict": "confirm"}, headers=reviewer)
        assert review.status_code == 201
        refused = [
            client.post("/v1/classify", json={"text": COMPLAINT * 200}, headers=ingest),  # over the limit
            client.post("/v1/classify", json={"text": COMPLAINT, "colour": 1}, headers=ingest),
            client.post("/v1/classify", content=b'{"text": "' + COMPLAINT.encode() + b'"', headers=ingest),
            client.post("/v1/classify", json={"text": COMPLAINT}, headers=reviewer),
            client.post("/v1/classify", json={"text": COMPLAINT}, headers=bearer(INGEST_KEY[:-2])),
            client.get("/v1/tickets", params={"api_key": REVIEWER_KEY, "lang": "ru"}),
            client.get(f"/v1/tickets/{INGEST_KEY}"),
            client.post("/v1/webhooks/zammad", content=payload, headers={"X-Hub-Signature": "sha1=" + "0" * 40}),
            client.post("/ui/login", data={"key": INGEST_KEY}),
        ]
        assert all(400 <= response.status_code < 500 for response in refused), [r.status_code for r in refused]
        login = client.post("/ui/login", data={"key": REVIEWER_KEY}, follow_redirects=False)
        assert login.status_code == 303
        assert client.get("/ui/", headers={"Cookie": f"triage_key={REVIEWER_KEY}"}).status_code == 200
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE tickets")  # the next write fails inside the service
        assert client.post("/v1/classify", json={"text": COMPLAINT}, headers=ingest).status_code == 500


def test_no_key_and_no_complaint_text_reaches_the_logs(service_model: ServiceModel, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(f"ingest:{INGEST_KEY}\nreviewer:{REVIEWER_KEY}\n", encoding="utf-8")
    database = tmp_path / "logs.db"
    env = service_env(service_model, database, free_port(), api_keys_file=str(keys_file))
    log = tmp_path / "server.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", INFO_LOGGING, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    served = ServedProcess(f"http://127.0.0.1:{env['TRIAGE_PORT']}", process, log)
    try:
        served.wait_ready()
        drive(served.url, database)
    finally:
        served.stop()
    output = served.output()
    # the log was written at INFO: access lines, and SQLAlchemy's statements (with their parameters hidden)
    assert '"POST /v1/classify HTTP/1.1" 201' in output and '"POST /v1/webhooks/zammad HTTP/1.1" 200' in output
    assert "INSERT INTO tickets" in output and "[SQL parameters hidden due to hide_parameters=True]" in output
    assert "Exception in ASGI application" in output and "no such table: tickets" in output
    assert '"GET /v1/tickets HTTP/1.1" 401' in output and '"GET /v1/tickets/[api key] HTTP/1.1" 401' in output
    for secret in (INGEST_KEY, INGEST_KEY[:-2], REVIEWER_KEY, REVIEWER_KEY[10:]):
        assert secret not in output
    for fragment in FRAGMENTS:
        assert fragment.casefold() not in output.casefold(), fragment


def test_database_errors_do_not_carry_the_statements_parameters(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'errors.db'}")
    insert = text("INSERT INTO tickets (source, text) VALUES (:source, :text)")
    with pytest.raises(IntegrityError) as raised, database.engine.connect() as connection:
        connection.execute(insert, {"source": "api", "text": COMPLAINT})  # other NOT NULL columns are missing
    database.close()
    assert "NOT NULL constraint failed" in str(raised.value)
    assert "Квазимодо" not in str(raised.value) and "parameters hidden" in str(raised.value)
