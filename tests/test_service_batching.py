"""The service's micro-batching: concurrent requests share model calls, which never run on the event loop."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from model.predictor import Prediction
from serve.app import create_app
from tests.service_support import ServiceModel, bearer, new_key, resources_of, service_settings


def test_concurrent_requests_are_batched_off_the_event_loop(service_model: ServiceModel, tmp_path: Path) -> None:
    settings = service_settings(service_model, tmp_path, batch_wait_ms=200, batch_max_texts=32)
    calls: list[tuple[int, str]] = []
    with TestClient(create_app(settings)) as client:
        predictor = resources_of(client.app).classifier.predictor  # type: ignore[arg-type]
        original = predictor.predict

        def recording_predict(texts: Sequence[str]) -> list[Prediction]:
            calls.append((len(texts), threading.current_thread().name))
            return original(texts)

        predictor.predict = recording_predict  # type: ignore[method-assign]
        key = new_key(client.app, "ingest")  # type: ignore[arg-type]
        texts = [f"Жду заказ номер {n} уже неделю, верните деньги" for n in range(12)]
        with ThreadPoolExecutor(max_workers=12) as pool:
            responses = list(
                pool.map(lambda text: client.post("/v1/classify", json={"text": text}, headers=bearer(key)), texts)
            )
        batch = client.post("/v1/classify/batch", json={"items": [{"text": t} for t in texts[:3]]}, headers=bearer(key))
    assert [r.status_code for r in responses] == [201] * 12
    assert [r.json()["text"] for r in responses] == texts  # each caller gets its own text's result
    assert batch.status_code == 200 and len(batch.json()["items"]) == 3
    assert sum(size for size, _ in calls) == 15  # every text was tagged once
    assert len(calls) < 12  # concurrent requests shared model calls
    assert {thread for _, thread in calls} == {"micro-batch_0"}  # one worker thread, never the event loop
