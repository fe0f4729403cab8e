"""What the service loads once at start-up: settings, the ticket store, the model with its playbook, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from model.predictor import Predictor
from remedies.playbook import load_playbook
from serve.auth import add_keys_from_file
from serve.classifier import Classifier
from serve.db import Database, open_database
from serve.metrics import Metrics
from triage.settings import Settings


@dataclass
class Resources:
    """Everything a request handler needs besides its own database session."""

    settings: Settings
    database: Database
    classifier: Classifier
    metrics: Metrics


def load_resources(settings: Settings, metrics: Metrics) -> Resources:
    """Load the model and playbook, migrate the database and add bootstrap keys.

    Raises `model.bundle.ModelDirectoryError` for a missing or corrupt model directory and
    `remedies.playbook.PlaybookError` for a bad playbook, each saying what is wrong.
    """
    predictor = Predictor.load(settings.model_dir, settings.cache_dir, settings.backbone_file)
    playbook = load_playbook(settings.playbook_file)
    database = open_database(settings.database_url)
    if settings.api_keys_file is not None:
        with database.session() as session:
            add_keys_from_file(session, settings.api_keys_file)
    metrics.model.info({"version": predictor.version})
    return Resources(settings, database, Classifier(predictor, playbook), metrics)
