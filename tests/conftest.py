"""Shared fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def make_record(**overrides: Any) -> dict[str, Any]:
    """A valid corpus record, with fields replaced by `overrides`."""
    record: dict[str, Any] = {
        "id": "ru-x-0001",
        "text": "Жду доставку уже третью неделю, деньги списали.",
        "lang": "ru",
        "costs": ["economic", "time"],
        "abuse_risk": 0,
        "churn": 0,
        "is_complaint": 1,
        "domain": "delivery",
        "channel": "email",
        "split": "train",
        "augmented": False,
    }
    record.update(overrides)
    return record


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[str, list[Any]], Path]:
    """Write objects (or raw strings) as lines of a JSONL file under tmp_path."""

    def _write(name: str, rows: list[Any]) -> Path:
        path = tmp_path / name
        lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return _write


from tests.service_support import cli_on_app_database, service_client, service_model  # noqa: E402, F401  (service test fixtures)
