"""Crash safety: SIGKILL the server in the middle of a burst of writes, restart it on the same SQLite file, and
find the database intact with every acknowledged write in it exactly once."""

from __future__ import annotations

import sqlite3
import threading
import time
from itertools import count
from pathlib import Path

import httpx

from model.labels import ALL_LABELS
from serve.db import make_engine
from tests.live_server import free_port, service_env, triage_serve
from tests.service_support import ServiceModel, bearer

WRITERS = 8
KILL_AFTER = 150  # acknowledged writes before the kill
INGEST_KEY = "crash-test-ingest-key-000000000001"
REVIEWER_KEY = "crash-test-reviewer-key-0000000001"
TEXT = "Жду заказ третью неделю, деньги списали, верните деньги!"


def classify(http: httpx.Client, external_id: str) -> httpx.Response:
    return http.post("/v1/classify", json={"text": TEXT, "external_id": external_id}, headers=bearer(INGEST_KEY))


def test_sqlite_commits_are_synced_to_disk_before_they_return(tmp_path: Path) -> None:
    """synchronous=FULL in WAL mode: a commit survives power loss too, not only a killed process."""
    engine = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_sigkill_mid_burst_keeps_every_acknowledged_write(service_model: ServiceModel, tmp_path: Path) -> None:
    database = tmp_path / "crash.db"
    keys = tmp_path / "keys.txt"
    keys.write_text(f"ingest:{INGEST_KEY}\nreviewer:{REVIEWER_KEY}\n")
    acknowledged: list[str] = []
    refused: list[int] = []
    lock = threading.Lock()

    env = service_env(service_model, database, free_port(), api_keys_file=str(keys))
    with triage_serve(env, tmp_path / "first.log") as server:

        def writer(number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for sequence in count():
                    external_id = f"crash-{number}-{sequence}"
                    try:
                        response = classify(http, external_id)
                    except httpx.TransportError:
                        return  # the server is gone: this write may or may not have been stored
                    with lock:
                        if response.status_code == 201:
                            acknowledged.append(external_id)
                        else:
                            refused.append(response.status_code)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < KILL_AFTER:
            assert time.monotonic() < deadline and not refused, f"{len(acknowledged)} acknowledged, {refused}"
            time.sleep(0.01)
        server.kill()
        for thread in threads:
            thread.join(timeout=60)
    assert not refused and all(not thread.is_alive() for thread in threads)

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = dict(db.execute("SELECT external_id, count(*) FROM tickets GROUP BY external_id").fetchall())
        partial = db.execute(
            "SELECT count(*) FROM tickets t WHERE (SELECT count(*) FROM ticket_labels l WHERE l.ticket_id = t.id) != ?",
            (len(ALL_LABELS),),
        ).fetchone()[0]
    assert set(acknowledged) <= set(stored) and set(stored.values()) == {1}
    assert partial == 0  # a ticket is stored with all its labels or not at all
    print(
        f"\ncrash: {len(acknowledged)} writes acknowledged before SIGKILL, {len(stored)} stored, all acknowledged kept"
    )

    env = service_env(service_model, database, free_port(), api_keys_file=str(keys))
    with triage_serve(env, tmp_path / "second.log") as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert server.wait_ready().json()["status"] == "ready"
        again = classify(http, acknowledged[0])
        assert again.status_code == 200 and again.json()["external_id"] == acknowledged[0]
        assert classify(http, "after-restart").status_code == 201
        listing = http.get("/v1/tickets", params={"limit": 1}, headers=bearer(REVIEWER_KEY))
        assert listing.status_code == 200 and listing.json()["total"] == len(stored) + 1
