"""Reviewers' feedback and the retraining loop: confirm/correct, stored with who and when, exported as corpus JSONL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from model.bundle import MODEL_CONFIG
from serve.db import Feedback
from tests.service_support import ServiceModel, bearer, new_key, resources_of
from training.corpus import CorpusRecord, validate_file
from triage.cli import app as cli


@pytest.fixture(scope="module")
def keys(service_client: TestClient) -> dict[str, str]:
    app: Any = service_client.app
    return {
        "ingest": new_key(app, "ingest"),
        "alice": new_key(app, "reviewer", "alice"),
        "bob": new_key(app, "manager", "bob"),
    }


def new_ticket(client: TestClient, keys: dict[str, str], text: str = "Жду деньги, верните заказ") -> dict[str, Any]:
    response = client.post("/v1/classify", json={"text": text}, headers=bearer(keys["ingest"]))
    assert response.status_code == 201
    result: dict[str, Any] = response.json()
    return result


def feedback_rows(client: TestClient) -> int:
    app: Any = client.app
    with resources_of(app).database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


def test_confirmation_is_stored_with_the_reviewer_and_time(service_client: TestClient, keys: dict[str, str]) -> None:
    ticket = new_ticket(service_client, keys)
    before = datetime.now(UTC)
    response = service_client.post(
        f"/v1/tickets/{ticket['id']}/feedback", json={"verdict": "confirm"}, headers=bearer(keys["alice"])
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["final_labels"] == ticket["final_labels"] and result["needs_review"] is False
    [review] = result["reviews"]
    assert review["reviewer"] == "alice" and review["verdict"] == "confirm"
    assert review["labels"] == ticket["final_labels"]
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(review["created_at"]) <= datetime.now(UTC)


def test_correction_changes_final_labels_tags_and_remedies_but_not_the_models_output(
    service_client: TestClient, keys: dict[str, str]
) -> None:
    ticket = new_ticket(service_client, keys)
    changes = {"economic": not ticket["final_labels"]["economic"], "abuse_risk": True, "is_complaint": True}
    response = service_client.post(
        f"/v1/tickets/{ticket['id']}/feedback",
        json={"verdict": "correct", "labels": changes, "lang": "bg"},
        headers=bearer(keys["bob"]),
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["labels"] == ticket["labels"]
    assert result["final_labels"] == {**ticket["final_labels"], **changes} and result["lang"] == "bg"
    assert ("triage_cost_economic" in result["tags"]) == changes["economic"]
    assert "triage_abuse_risk" in result["tags"] and "triage_lang_bg" in result["tags"]
    assert result["remedies"]["mode"] == "abuse"
    assert result["reviews"][-1]["reviewer"] == "bob" and result["reviews"][-1]["labels"] == result["final_labels"]
    app: Any = service_client.app
    with resources_of(app).database.session() as session:
        row = session.scalars(select(Feedback).where(Feedback.ticket_id == ticket["id"])).one()
        assert row.reviewer == "bob" and row.verdict == "correct" and row.lang == "bg" and row.key_id is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"verdict": "correct"}, "needs `labels` or `lang`"),
        ({"verdict": "confirm", "labels": {"churn": True}}, "a confirmation changes nothing"),
        ({"verdict": "correct", "labels": {"refund": True}}, "unknown labels ['refund']"),
        ({"verdict": "correct", "labels": {"churn": "maybe"}}, "valid boolean"),
        ({"verdict": "correct", "lang": "en"}, "'ru', 'ro' or 'bg'"),
        ({"verdict": "approve"}, "'confirm' or 'correct'"),
        ({}, "Field required"),
    ],
)
def test_bad_feedback_is_rejected_and_nothing_is_stored(
    service_client: TestClient, keys: dict[str, str], body: dict[str, Any], message: str
) -> None:
    ticket = new_ticket(service_client, keys)
    count = feedback_rows(service_client)
    response = service_client.post(f"/v1/tickets/{ticket['id']}/feedback", json=body, headers=bearer(keys["alice"]))
    assert response.status_code == 422 and message in str(response.json()["detail"])
    assert feedback_rows(service_client) == count
    missing = service_client.post(
        "/v1/tickets/999999/feedback", json={"verdict": "confirm"}, headers=bearer(keys["alice"])
    )
    assert missing.status_code == 404 and feedback_rows(service_client) == count


def test_export_writes_reviewed_tickets_as_corpus_records_that_train_accepts(
    service_client: TestClient,
    keys: dict[str, str],
    service_model: ServiceModel,
    tmp_path: Path,
    cli_on_app_database: None,
) -> None:
    corrected = new_ticket(service_client, keys, "Поръчката не пристигна, върнете парите")
    service_client.post(
        f"/v1/tickets/{corrected['id']}/feedback",
        json={"verdict": "correct", "labels": {"time": True, "churn": True}, "lang": "bg"},
        headers=bearer(keys["alice"]),
    )
    foreign = new_ticket(service_client, keys, "12345 !!! 678")
    assert foreign["lang"] == "other"
    service_client.post(
        f"/v1/tickets/{foreign['id']}/feedback", json={"verdict": "confirm"}, headers=bearer(keys["alice"])
    )
    new_ticket(service_client, keys)  # not reviewed: not exported

    exported = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(cli, ["export-feedback", "--output", str(exported)])
    assert result.exit_code == 0, result.output
    assert f"skipped ticket {foreign['id']}: language 'other'" in result.output
    records, errors = validate_file(exported, CorpusRecord)
    assert errors == []
    by_id = {r.id: r for r in records}
    record = by_id[f"feedback-{corrected['id']}"]
    assert record.lang == "bg" and record.text == corrected["text"] and record.split == "train"
    assert "time" in record.costs and record.churn == 1 and record.channel == "email" and record.domain == "helpdesk"
    assert f"feedback-{foreign['id']}" not in by_id
    app: Any = service_client.app
    with resources_of(app).database.session() as session:
        reviewed = session.scalar(select(func.count(func.distinct(Feedback.ticket_id)))) or 0
    assert len(records) == reviewed - 1

    assert CliRunner().invoke(cli, ["data", "validate", str(exported)]).exit_code == 0
    later = CliRunner().invoke(
        cli, ["export-feedback", "--output", str(tmp_path / "none.jsonl"), "--since", "2999-01-01"]
    )
    assert later.exit_code == 0 and (tmp_path / "none.jsonl").read_text() == ""
    bad_split = CliRunner().invoke(cli, ["export-feedback", "--output", str(tmp_path / "x.jsonl"), "--split", "test"])
    assert bad_split.exit_code == 1

    retrained = tmp_path / "retrained"
    args = ["train", "--data", str(service_model.corpus), "--data", str(exported), "--output", str(retrained)]
    train = CliRunner().invoke(cli, [*args, "--set", "max_steps=1", "--set", "batch_size=8", "--set", "max_length=32"])
    assert train.exit_code == 0, train.output
    summary = json.loads((retrained / MODEL_CONFIG).read_text())["training_data"]
    assert str(exported) in summary["files"]
    assert summary["train_records"] == 30 + len(records)
