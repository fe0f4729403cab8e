"""Listing stored tickets: filters on final labels, language, review state and dates; pagination; daily stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serve.db import Ticket
from tests.service_support import bearer, new_key, resources_of

TEXTS = [
    "Жду заказ третью неделю, деньги списали",
    "Спасибо, всё пришло вовремя",
    "Comanda nu a ajuns, vreau banii inapoi",
    "Livrare ok, multumesc",
    "Поръчката не пристигна, върнете парите",
    "12345 !!! 678",
    "Верните деньги за заказ",
]


@pytest.fixture(scope="module")
def world(service_client: TestClient) -> dict[str, Any]:
    """Seven tickets, one of them created ten days ago, and a reviewer key."""
    app: Any = service_client.app
    ingest, reviewer = new_key(app, "ingest"), new_key(app, "reviewer")
    items = [{"text": text} for text in TEXTS]
    response = service_client.post("/v1/classify/batch", json={"items": items}, headers=bearer(ingest))
    tickets = response.json()["items"]
    old = tickets[0]["id"]
    with resources_of(app).database.session() as session:
        row = session.get(Ticket, old)
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(days=10)
        session.commit()
    return {"reviewer": bearer(reviewer), "ids": [t["id"] for t in tickets], "old": old}


def listing(client: TestClient, world: dict[str, Any], **query: Any) -> dict[str, Any]:
    response = client.get("/v1/tickets", params=query, headers=world["reviewer"])
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_pages_cover_every_ticket_once_newest_first(service_client: TestClient, world: dict[str, Any]) -> None:
    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        page = listing(service_client, world, limit=3, offset=offset)
        assert page["total"] == 7 and len(page["items"]) <= 3
        seen += [item["id"] for item in page["items"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(world["ids"]) and len(seen) == 7
    assert seen[-1] == world["old"]
    stamps = [item["created_at"] for item in listing(service_client, world, limit=10)["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert listing(service_client, world, limit=3, offset=6)["next_offset"] is None
    assert listing(service_client, world, offset=50)["items"] == []


def test_language_filter_partitions_the_tickets(service_client: TestClient, world: dict[str, Any]) -> None:
    totals = 0
    for lang in ("ru", "ro", "bg", "other"):
        page = listing(service_client, world, lang=lang)
        assert all(item["lang"] == lang for item in page["items"])
        totals += page["total"]
    assert totals == 7
    assert listing(service_client, world, lang="other")["total"] >= 1


def test_label_and_abuse_filters_follow_reviewers_corrections(
    service_client: TestClient, world: dict[str, Any]
) -> None:
    first, second = world["ids"][1], world["ids"][2]
    for ticket_id, value in ((first, True), (second, False)):
        service_client.post(
            f"/v1/tickets/{ticket_id}/feedback",
            json={"verdict": "correct", "labels": {"social": value, "abuse_risk": value}},
            headers=world["reviewer"],
        )
    social = {item["id"] for item in listing(service_client, world, label="social")["items"]}
    assert first in social and second not in social
    assert all(item["final_labels"]["social"] for item in listing(service_client, world, label="social")["items"])
    abusive = listing(service_client, world, abuse=True)
    clean = listing(service_client, world, abuse=False)
    assert abusive["total"] + clean["total"] == 7
    assert first in {i["id"] for i in abusive["items"]} and second in {i["id"] for i in clean["items"]}
    assert all(i["final_labels"]["abuse_risk"] for i in abusive["items"])


def test_needs_review_lists_unsure_unreviewed_tickets(service_client: TestClient, world: dict[str, Any]) -> None:
    waiting = listing(service_client, world, needs_review=True)
    assert waiting["total"] >= 1 and all(item["needs_review"] for item in waiting["items"])
    assert any(item["lang"] == "other" for item in waiting["items"])
    ticket = waiting["items"][0]["id"]
    service_client.post(f"/v1/tickets/{ticket}/feedback", json={"verdict": "confirm"}, headers=world["reviewer"])
    after = listing(service_client, world, needs_review=True)
    assert after["total"] == waiting["total"] - 1 and ticket not in {i["id"] for i in after["items"]}
    assert listing(service_client, world, needs_review=False)["total"] == 7 - after["total"]


def test_date_range_selects_by_creation_time(service_client: TestClient, world: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    old = listing(
        service_client, world, since=(now - timedelta(days=11)).isoformat(), until=(now - timedelta(days=9)).isoformat()
    )
    assert [item["id"] for item in old["items"]] == [world["old"]]
    recent = listing(service_client, world, since=(now - timedelta(days=1)).isoformat())
    assert recent["total"] == 6 and world["old"] not in {i["id"] for i in recent["items"]}
    assert listing(service_client, world, since=(now + timedelta(hours=1)).isoformat())["total"] == 0


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"label": "refund"},
        {"lang": "en"},
        {"since": "yesterday"},
        {"abuse": "maybe"},
        {"manager_lang": "fr"},
    ],
)
def test_bad_listing_queries_are_rejected(
    service_client: TestClient, world: dict[str, Any], query: dict[str, Any]
) -> None:
    response = service_client.get("/v1/tickets", params=query, headers=world["reviewer"])
    assert response.status_code == 422, response.text


def test_unknown_ticket_is_404(service_client: TestClient, world: dict[str, Any]) -> None:
    response = service_client.get("/v1/tickets/424242", headers=world["reviewer"])
    assert response.status_code == 404 and response.json() == {"detail": "no ticket with id 424242"}


def test_daily_stats_count_final_labels_per_day(service_client: TestClient, world: dict[str, Any]) -> None:
    response = service_client.get("/v1/stats/daily", params={"days": 12}, headers=world["reviewer"])
    assert response.status_code == 200
    days = response.json()
    assert len(days) == 12 and days[-1]["date"] == datetime.now(UTC).date().isoformat()
    assert sum(day["tickets"] for day in days) == 7
    assert days[1]["tickets"] == 1  # the ticket moved ten days back
    today = listing(service_client, world, since=datetime.now(UTC).date().isoformat(), limit=50)["items"]
    for label in ("economic", "time", "social", "emotional", "abuse_risk"):
        assert days[-1]["labels"][label] == sum(item["final_labels"][label] for item in today)
    assert service_client.get("/v1/stats/daily", params={"days": 0}, headers=world["reviewer"]).status_code == 422
