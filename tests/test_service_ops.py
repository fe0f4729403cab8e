"""Operations: probes, Prometheus metrics, security headers, migrations, start-up failures, `triage serve`."""

from __future__ import annotations

import json
import pickle
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import safetensors.torch
import torch
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from model.bundle import MODEL_CONFIG, TRAINED_WEIGHTS, ModelDirectoryError
from model.langid import LANGID_WEIGHTS
from serve.app import CONTENT_SECURITY_POLICY, create_app
from serve.db import Base, make_engine, open_database
from tests.live_server import free_port, service_env, triage_serve
from tests.service_support import ServiceModel, bearer, new_key, resources_of, service_settings
from triage.cli import app as cli
from triage.settings import get_settings


def test_health_and_readiness(service_client: TestClient) -> None:
    assert service_client.get("/healthz").json() == {"status": "ok"}
    ready = service_client.get("/readyz")
    app: Any = service_client.app
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "model_version": resources_of(app).classifier.version, "database": "ok"}


def test_readiness_fails_when_the_database_is_unreachable(service_client: TestClient, tmp_path: Path) -> None:
    database = resources_of(service_client.app).database  # type: ignore[arg-type]
    working = database.sessions
    database.sessions = sessionmaker(make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    try:
        response = service_client.get("/readyz")
    finally:
        database.sessions = working
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    assert response.json()["status"] == "unavailable"


def test_metrics_count_requests_latency_predictions_and_model_version(service_client: TestClient) -> None:
    app: Any = service_client.app
    key = new_key(app, "ingest")
    for text in ("Жду деньги", "Comanda nu a ajuns"):
        assert service_client.post("/v1/classify", json={"text": text}, headers=bearer(key)).status_code == 201
    service_client.post("/v1/classify", json={"text": " "}, headers=bearer(key))
    body = service_client.get("/metrics")
    assert body.headers["content-type"].startswith("text/plain")
    text = body.text
    assert 'triage_http_requests_total{method="POST",route="/v1/classify",status="201"} 2.0' in text
    assert 'triage_http_requests_total{method="POST",route="/v1/classify",status="422"} 1.0' in text
    assert 'triage_http_request_duration_seconds_count{method="POST",route="/v1/classify"} 3.0' in text
    assert 'triage_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/classify"} 3.0' in text
    for label in ("economic", "abuse_risk", "is_complaint"):
        counts = [
            line
            for line in text.splitlines()
            if line.startswith('triage_predictions_total{decision="') and f'label="{label}"' in line
        ]
        assert sum(float(line.rsplit(" ", 1)[1]) for line in counts) == 2.0
    assert f'triage_model_info{{version="{resources_of(app).classifier.version}"}} 1.0' in text
    service_client.get("/v1/tickets/12345")
    assert 'route="/v1/tickets/{ticket_id}"' in service_client.get("/metrics").text


def test_responses_carry_a_strict_content_security_policy(service_client: TestClient) -> None:
    for path in ("/ui/login", "/healthz", "/v1/tickets"):
        response = service_client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY


def test_migrations_build_the_models_schema_in_wal_mode(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    with database.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"
    database.close()
    open_database(f"sqlite:///{tmp_path / 'fresh.db'}").close()  # applying again is a no-op


class PlantsAFile:
    """Unpickling this creates `marker`: proof that a loader ran pickle's code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return Path.touch, (self.marker,)


def damage_model_directory(directory: Path, damage: str, marker: Path) -> str:
    """Break a copied model directory in one way; return the message start-up must fail with."""
    weights, langid = directory / TRAINED_WEIGHTS, directory / LANGID_WEIGHTS
    if damage == "config not JSON":
        (directory / MODEL_CONFIG).write_text("{not json")
        return "is not valid JSON"
    if damage == "pickle for weights":
        weights.write_bytes(pickle.dumps({"head.weight": PlantsAFile(marker)}))
        return "cannot load weights"
    if damage == "truncated weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
        return "cannot load weights"
    if damage == "truncated language detector":
        langid.write_bytes(langid.read_bytes()[:100])
        return "cannot load weights"
    misshapen = {name: torch.zeros(2, 3) for name in safetensors.torch.load_file(str(weights))}
    safetensors.torch.save_file(misshapen, str(weights))
    return "other shapes than the model's"


@pytest.mark.parametrize(
    "damage",
    ["config not JSON", "pickle for weights", "truncated weights", "truncated language detector", "misshapen weights"],
)
def test_a_corrupt_model_directory_stops_start_up_with_a_clear_message(
    service_model: ServiceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """Model files are read as JSON and safetensors only: a pickle where weights belong is never run."""
    broken, marker = tmp_path / "model", tmp_path / "pickle-ran"
    shutil.copytree(service_model.model_dir, broken)
    message = damage_model_directory(broken, damage, marker)
    settings = service_settings(service_model, tmp_path, model_dir=broken)
    with pytest.raises(ModelDirectoryError, match=message), TestClient(create_app(settings)):
        pass
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(broken))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(service_model.cache_dir))
    monkeypatch.setenv("TRIAGE_BACKBONE_FILE", str(service_model.backbone_file))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "cannot start: the model is unusable" in result.output and message in result.output
    assert not marker.exists()


def test_bootstrap_keys_file_adds_keys_once(service_model: ServiceModel, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# bootstrap\ningest:bootstrap-ingest-key-0001\nadmin:bootstrap-admin-key-0001\n")
    settings = service_settings(service_model, tmp_path, api_keys_file=keys_file)
    for _ in range(2):
        with TestClient(create_app(settings)) as client:
            keys = client.get("/v1/keys", headers=bearer("bootstrap-admin-key-0001")).json()
            assert [(k["name"], k["role"]) for k in keys] == [("keys.txt:2", "ingest"), ("keys.txt:3", "admin")]
    keys_file.write_text("superuser:some-long-key-000001\n")
    with pytest.raises(ValueError, match=r"keys\.txt:1: expected `role:key`"), TestClient(create_app(settings)):
        pass


def test_triage_serve_starts_the_service_on_the_configured_port(service_model: ServiceModel, tmp_path: Path) -> None:
    env = service_env(service_model, tmp_path / "served.db", free_port())
    with triage_serve(env, tmp_path / "serve.log") as server:
        ready = server.wait_ready()
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert json.loads(httpx.get(f"{server.url}/healthz").text) == {"status": "ok"}
    with sqlite3.connect(tmp_path / "served.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
