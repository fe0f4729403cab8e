"""The service on a real PostgreSQL server, started by the tests in a temporary folder on a free port."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from serve.app import create_app
from serve.db import Base, Ticket
from serve.export import feedback_records
from serve.service import classify_tickets
from serve.store import NewTicket, reviewed_tickets
from tests.live_server import free_port
from tests.service_support import ServiceModel, bearer, new_key, resources_of, service_settings
from tests.test_service_webhooks import ZAMMAD, deliver


def postgres_bindir() -> Path | None:
    """Debian's server binaries (package postgresql), newest major version."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """initdb + pg_ctl into a temporary folder, on 127.0.0.1 and a free port; run as `postgres` when we are root."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are absent (/usr/lib/postgresql/*/bin); `make test` installs them")
    root = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()

    def run(*command: str | Path) -> None:
        subprocess.run([*as_user, *map(str, command)], check=True, capture_output=True, timeout=120)

    run(bindir / "initdb", "-D", data, "-U", "triage", "--auth=trust", "-E", "UTF8", "--locale=C")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-o", options, "-w", "-t", "60", "start")
    try:
        yield f"postgresql+psycopg://triage@127.0.0.1:{port}/postgres"
    finally:
        run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_client(
    service_model: ServiceModel, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    settings = service_settings(service_model, tmp_path_factory.mktemp("pg"), database_url=postgres_url)
    with TestClient(create_app(settings)) as client:
        yield client


def test_migrations_match_the_models_on_postgres(pg_client: TestClient) -> None:
    app: Any = pg_client.app
    engine = resources_of(app).database.engine
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    assert pg_client.get("/readyz").json()["database"] == "ok"


def test_classify_review_list_and_export_on_postgres(pg_client: TestClient) -> None:
    app: Any = pg_client.app
    ingest, reviewer = bearer(new_key(app, "ingest")), bearer(new_key(app, "reviewer", "petra"))
    items = [{"text": "Жду деньги", "external_id": "pg-1"}, {"text": "Comanda nu a ajuns"}, {"text": "Върнете парите"}]
    batch = pg_client.post("/v1/classify/batch", json={"items": items}, headers=ingest)
    assert batch.status_code == 200
    ids = [item["id"] for item in batch.json()["items"]]
    again = pg_client.post("/v1/classify", json={"text": "x", "external_id": "pg-1"}, headers=ingest)
    assert again.status_code == 200 and again.json()["id"] == ids[0]

    corrected = pg_client.post(
        f"/v1/tickets/{ids[1]}/feedback",
        json={"verdict": "correct", "labels": {"social": True, "abuse_risk": True}, "lang": "ro"},
        headers=reviewer,
    )
    assert corrected.status_code == 201 and corrected.json()["reviews"][0]["reviewer"] == "petra"
    social = pg_client.get("/v1/tickets", params={"label": "social"}, headers=reviewer).json()
    assert ids[1] in {item["id"] for item in social["items"]}
    assert pg_client.get("/v1/tickets", params={"abuse": True, "lang": "ro"}, headers=reviewer).json()["total"] >= 1
    page = pg_client.get("/v1/tickets", params={"limit": 2}, headers=reviewer).json()
    assert page["total"] == 3 and page["next_offset"] == 2
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert pg_client.get("/v1/tickets", params={"since": since}, headers=reviewer).json()["total"] == 3
    today = pg_client.get("/v1/stats/daily", params={"days": 1}, headers=reviewer).json()[0]
    assert today["tickets"] == 3 and today["labels"]["abuse_risk"] >= 1

    with resources_of(app).database.session() as session:
        exported = feedback_records(reviewed_tickets(session), "train", "helpdesk")
    assert [r.id for r in exported.records] == [f"feedback-{ids[1]}"] and exported.records[0].lang == "ro"


def test_webhook_redelivery_is_idempotent_on_postgres(pg_client: TestClient) -> None:
    first = deliver(pg_client, "zammad", ZAMMAD)
    second = deliver(pg_client, "zammad", ZAMMAD)
    assert first.json()["created"] is True and second.json()["created"] is False
    assert first.json()["ticket_id"] == second.json()["ticket_id"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_deliveries_of_one_ticket_store_it_once(
    backend: str, service_model: ServiceModel, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Four workers race on the same (source, external_id): the unique constraint lets exactly one insert win."""
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'race.db'}"
    with TestClient(create_app(service_settings(service_model, tmp_path, database_url=url))) as client:
        app: Any = client.app
        resources = resources_of(app)
        ticket = NewTicket("zendesk", f"race-{backend}", None, "Жду деньги третью неделю")

        def store(_: int) -> tuple[int, bool]:
            with resources.database.session() as session:
                [(stored, created)] = classify_tickets(resources, session, [ticket])
                return stored.id, created

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(store, range(4)))
        assert len({ticket_id for ticket_id, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        with resources.database.session() as session:
            count = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.external_id == f"race-{backend}")
            )
        assert count == 1
