"""Shared pieces of the service tests: a tiny model trained once per session, settings and API keys for an app."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from serve.app import create_app
from serve.auth import Role, create_key
from serve.resources import Resources
from tests.fake_e5 import write_fake_e5
from triage.settings import Settings, get_settings

WORDS = {
    "ru": ["жду", "деньги", "не", "спасибо", "заказ", "верните"],
    "ro": ["comanda", "banii", "nu", "ok", "livrare", "inapoi"],
    "bg": ["поръчка", "не", "ok", "парите", "върнете"],
}
SECRETS = {"zendesk": "zendesk-signing-secret", "freshdesk": "freshdesk-shared-secret", "zammad": "zammad-hmac-token"}


@dataclass(frozen=True)
class ServiceModel:
    """A trained tiny model and the fake backbone it needs."""

    model_dir: Path
    cache_dir: Path
    backbone_file: Path
    corpus: Path


def write_tiny_corpus(path: Path, size: int = 60) -> Path:
    """Random ru/ro/bg word salads with random labels, in the corpus schema."""
    rng = random.Random(11)
    rows = []
    for i in range(size):
        lang = ("ru", "ro", "bg")[i % 3]
        costs = [c for c in ("economic", "time", "social", "emotional") if rng.random() < 0.4]
        text = " ".join(rng.choices(WORDS[lang], k=rng.randint(3, 20)))
        split = ("train", "train", "dev", "test")[i % 4]
        rows.append(
            {
                "id": f"{lang}-{i}",
                "text": text,
                "lang": lang,
                "costs": costs,
                "abuse_risk": int(i % 7 == 0),
                "churn": int(i % 5 == 0),
                "is_complaint": int(i % 9 != 0),
                "domain": "delivery",
                "channel": "email",
                "split": split,
                "augmented": False,
            }
        )
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def service_model(tmp_path_factory: pytest.TempPathFactory) -> ServiceModel:
    """Train the tiny model once for all service tests (seconds, on a random 2-layer backbone)."""
    from training.config import load_config
    from training.train import train_model

    root = tmp_path_factory.mktemp("service-model")
    backbone = write_fake_e5(root / "fake.bin")
    corpus = write_tiny_corpus(root / "corpus.jsonl")
    overrides = [f"data={json.dumps([str(corpus)])}", f"output_dir={json.dumps(str(root / 'model'))}"]
    config = load_config(None, [*overrides, "epochs=1", "batch_size=8", "max_length=64"])
    model_dir = train_model(config, root / "cache", backbone)
    return ServiceModel(model_dir, root / "cache", backbone, corpus)


def service_settings(model: ServiceModel, folder: Path, **overrides: Any) -> Settings:
    """Settings of a test app: the tiny model, a SQLite file in `folder`, every webhook on."""
    values: dict[str, Any] = {
        "model_dir": model.model_dir,
        "cache_dir": model.cache_dir,
        "backbone_file": model.backbone_file,
        "database_url": f"sqlite:///{folder / 'triage.db'}",
        "zendesk_webhook_secret": SecretStr(SECRETS["zendesk"]),
        "freshdesk_webhook_secret": SecretStr(SECRETS["freshdesk"]),
        "zammad_webhook_secret": SecretStr(SECRETS["zammad"]),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def resources_of(app: FastAPI) -> Resources:
    resources: Resources = app.state.resources
    return resources


def new_key(app: FastAPI, role: Role | str, name: str | None = None) -> str:
    """Create an API key straight in the app's database and return it."""
    with resources_of(app).database.session() as session:
        _, key = create_key(session, name or f"test-{role}", Role(role))
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def service_client(service_model: ServiceModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running app (lifespan entered) per test module, on its own database."""
    settings = service_settings(service_model, tmp_path_factory.mktemp("service-db"))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def cli_on_app_database(service_client: TestClient, service_model: ServiceModel) -> Iterator[None]:
    """The CLI pointed at the test app's database and the tiny model's backbone."""
    env = pytest.MonkeyPatch()
    env.setenv("TRIAGE_DATABASE_URL", resources_of(service_client.app).settings.database_url)  # type: ignore[arg-type]
    env.setenv("TRIAGE_CACHE_DIR", str(service_model.cache_dir))
    env.setenv("TRIAGE_BACKBONE_FILE", str(service_model.backbone_file))
    get_settings.cache_clear()
    yield
    env.undo()
    get_settings.cache_clear()
