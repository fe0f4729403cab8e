"""Settings come from TRIAGE_* variables with typed defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.settings import Runtime, Settings


def test_defaults_point_into_the_project_and_user_cache() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite:///")
    assert settings.model_dir.name == "shipped"
    assert settings.cache_dir.is_absolute()
    assert settings.runtime is Runtime.onnx


def test_environment_overrides_with_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", "postgresql+psycopg://u@localhost/db")
    monkeypatch.setenv("TRIAGE_RUNTIME", "torch")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cache_dir == tmp_path
    assert settings.database_url == "postgresql+psycopg://u@localhost/db"
    assert settings.runtime is Runtime.torch


def test_invalid_runtime_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_RUNTIME", "tpu")
    with pytest.raises(ValueError, match="runtime"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TRIAGE_PORT=9123\n")
    assert Settings(_env_file=env_file).port == 9123  # type: ignore[call-arg]
