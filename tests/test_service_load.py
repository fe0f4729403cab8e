"""Load: 32 concurrent clients against a real `triage serve` process on loopback, mixing classify requests, signed
helpdesk webhooks delivered several times each, and reviewers' feedback; 5,000 requests, bounded in time.

Afterwards the database must hold every acknowledged write exactly once, and no redelivery may add a ticket.
Run with `pytest -s` to see the throughput and latency figures.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from model.labels import ALL_LABELS
from tests.live_server import free_port, service_env, triage_serve
from tests.service_support import ServiceModel, bearer
from tests.test_service_webhooks import SIGN

CLIENTS = 32
CLASSIFY = 2_500
WEBHOOK_TICKETS = 375
DELIVERIES = 4  # each webhook ticket is delivered once and redelivered three times, by different clients
FEEDBACK = 1_000
TOTAL = CLASSIFY + WEBHOOK_TICKETS * DELIVERIES + FEEDBACK
TIME_LIMIT_S = 240.0
SEEDED = 64  # tickets stored before the clock starts, for feedback to land on
INGEST_KEY = "load-test-ingest-key-000000000001"
REVIEWER_KEY = "load-test-reviewer-key-00000000001"
TEXTS = (
    "Жду заказ третью неделю, деньги списали, верните деньги!",
    "Comanda nu a ajuns, vreau banii inapoi.",
    "Поръчката не пристигна, върнете парите.",
    "The parcel never came and nobody answers the phone.",
)
HELPDESKS = ("zendesk", "freshdesk", "zammad")


@dataclass(frozen=True)
class Call:
    """One planned request: its kind, what identifies its write, and how to send it."""

    kind: str
    key: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    call: Call
    status: int
    seconds: float
    answer: dict[str, Any]


def webhook_payload(helpdesk: str, number: int) -> dict[str, Any]:
    text = TEXTS[number % len(TEXTS)]
    if helpdesk == "zendesk":
        return {"ticket": {"id": number, "subject": "Заказ", "description": text}}
    if helpdesk == "freshdesk":
        return {"freshdesk_webhook": {"ticket_id": number, "ticket_description": f"<div>{text}</div>"}}
    return {"ticket": {"id": number, "title": "Comanda"}, "article": {"body": text, "content_type": "text/plain"}}


def plan(seeded_ids: list[int]) -> list[Call]:
    """The whole workload, shuffled with a fixed seed so that redeliveries of a ticket run concurrently."""
    json_headers = {"Content-Type": "application/json"}
    calls = [
        Call(
            "classify",
            f"load-{n}",
            "POST",
            "/v1/classify",
            {**json_headers, **bearer(INGEST_KEY)},
            json.dumps({"text": TEXTS[n % len(TEXTS)], "external_id": f"load-{n}"}).encode(),
        )
        for n in range(CLASSIFY)
    ]
    for n in range(WEBHOOK_TICKETS):
        helpdesk = HELPDESKS[n % len(HELPDESKS)]
        body = json.dumps(webhook_payload(helpdesk, 10_000 + n), ensure_ascii=False).encode()
        headers = {**json_headers, **SIGN[helpdesk](body)}
        calls += [Call("webhook", f"{helpdesk}:{10_000 + n}", "POST", f"/v1/webhooks/{helpdesk}", headers, body)] * (
            DELIVERIES
        )
    verdicts = [{"verdict": "confirm"}, {"verdict": "correct", "labels": {"churn": True}}]
    for n in range(FEEDBACK):
        ticket = seeded_ids[n % len(seeded_ids)]
        body = json.dumps(verdicts[n % 2]).encode()
        headers = {**json_headers, **bearer(REVIEWER_KEY)}
        calls.append(Call("feedback", str(ticket), "POST", f"/v1/tickets/{ticket}/feedback", headers, body))
    random.Random(8).shuffle(calls)
    return calls


def drive(url: str, calls: list[Call]) -> tuple[list[Outcome], float]:
    """Send `calls` from CLIENTS threads, each with its own keep-alive connection; stop at TIME_LIMIT_S."""
    outcomes: list[Outcome] = []
    failures: list[str] = []
    lock = threading.Lock()
    upcoming = iter(calls)
    deadline = time.monotonic() + TIME_LIMIT_S

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    call = next(upcoming, None)
                if call is None:
                    return
                started = time.perf_counter()
                try:
                    response = http.request(call.method, call.path, headers=call.headers, content=call.body)
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"{call.kind} {call.key}: {exc!r}")
                    continue
                answer = response.json() if response.headers.get("content-type") == "application/json" else {}
                outcome = Outcome(call, response.status_code, time.perf_counter() - started, answer)
                with lock:
                    outcomes.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert failures == [], failures[:5]
    return outcomes, elapsed


def report(outcomes: list[Outcome], elapsed: float) -> None:
    """Throughput and latency percentiles, overall and per kind (shown with `pytest -s`)."""

    def line(name: str, seconds: list[float]) -> str:
        cuts = statistics.quantiles(seconds, n=100)
        return (
            f"{name:9} {len(seconds):5d} requests  p50 {cuts[49] * 1000:6.1f} ms  p95 {cuts[94] * 1000:6.1f} ms  "
            f"p99 {cuts[98] * 1000:6.1f} ms"
        )

    print(
        f"\nload: {len(outcomes)} requests from {CLIENTS} clients in {elapsed:.1f} s = {len(outcomes) / elapsed:.0f}/s"
    )
    print(line("all", [o.seconds for o in outcomes]))
    for kind in ("classify", "webhook", "feedback"):
        print(line(kind, [o.seconds for o in outcomes if o.call.kind == kind]))


def seed_tickets(url: str) -> list[int]:
    items = [{"text": TEXTS[n % len(TEXTS)], "external_id": f"seed-{n}"} for n in range(SEEDED)]
    response = httpx.post(f"{url}/v1/classify/batch", json={"items": items}, headers=bearer(INGEST_KEY), timeout=60)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.load
def test_concurrent_mixed_load_loses_and_duplicates_nothing(service_model: ServiceModel, tmp_path: Path) -> None:
    database = tmp_path / "load.db"
    keys = tmp_path / "keys.txt"
    keys.write_text(f"ingest:{INGEST_KEY}\nreviewer:{REVIEWER_KEY}\n")
    env = service_env(service_model, database, free_port(), api_keys_file=str(keys))
    with triage_serve(env, tmp_path / "serve.log") as server:
        seeded = seed_tickets(server.url)
        calls = plan(seeded)
        outcomes, elapsed = drive(server.url, calls)
    report(outcomes, elapsed)

    statuses = Counter((o.call.kind, o.status) for o in outcomes)
    assert len(outcomes) == TOTAL, f"only {len(outcomes)} of {TOTAL} requests in {TIME_LIMIT_S} s: {statuses}"
    assert not [o for o in outcomes if o.status >= 500], statuses
    assert statuses == {
        ("classify", 201): CLASSIFY,
        ("webhook", 200): WEBHOOK_TICKETS * DELIVERIES,
        ("feedback", 201): FEEDBACK,
    }

    with sqlite3.connect(database) as db:
        api_ids = Counter(row[0] for row in db.execute("SELECT external_id FROM tickets WHERE source = 'api'"))
        hooks = Counter(
            f"{s}:{e}" for s, e in db.execute("SELECT source, external_id FROM tickets WHERE source != 'api'")
        )
        feedback = Counter(str(row[0]) for row in db.execute("SELECT ticket_id FROM feedback"))
        labels = db.execute("SELECT count(*) FROM ticket_labels").fetchone()[0]
        tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
    classified = {o.call.key for o in outcomes if o.call.kind == "classify"}
    assert set(api_ids) == classified | {f"seed-{n}" for n in range(SEEDED)} and set(api_ids.values()) == {1}
    assert set(hooks) == {o.call.key for o in outcomes if o.call.kind == "webhook"} and set(hooks.values()) == {1}
    assert feedback == Counter(o.call.key for o in outcomes if o.call.kind == "feedback")
    assert labels == len(ALL_LABELS) * tickets  # every ticket was stored whole

    deliveries: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.call.kind == "webhook":
            deliveries[outcome.call.key].append(outcome)
    for key, answers in deliveries.items():
        assert len({a.answer["ticket_id"] for a in answers}) == 1, key
        assert sorted(a.answer["created"] for a in answers) == [False] * (DELIVERIES - 1) + [True], key
