"""Typed training configuration: a YAML file plus `key=value` overrides from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from triage.settings import PROJECT_ROOT

DEFAULT_CONFIG = PROJECT_ROOT / "training" / "configs" / "default.yaml"


class TrainConfig(BaseModel):
    """Everything that decides what `triage train` produces."""

    model_config = ConfigDict(extra="forbid")

    data: list[Path] = Field(default_factory=lambda: [PROJECT_ROOT / "data" / "corpus"])
    """Corpus-schema JSONL files or folders of them; `train` records train, `dev` records calibrate."""
    output_dir: Path = PROJECT_ROOT / "runs" / "model"
    langid_extra: list[Path] = Field(default_factory=lambda: [PROJECT_ROOT / "data" / "langid" / "other.jsonl"])
    """Texts in other languages (`text` field) that teach the detector the `other` class."""
    method: Literal["top_layers", "lora"] = "top_layers"
    top_layers: int = 3
    lora_rank: int = 8
    max_length: int = 256
    epochs: float = 4.0
    max_steps: int = -1
    batch_size: int = 16
    learning_rate: float = 1e-4
    head_lr_multiplier: float = 10.0
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    include_augmented: bool = True
    seed: int = 13
    resume: bool = False
    torch_threads: int | None = None


def load_config(path: Path | None, overrides: list[str]) -> TrainConfig:
    """Read `path` (default config if None) and apply `key=value` overrides (values parsed as YAML)."""
    payload: dict[str, Any] = yaml.safe_load((path or DEFAULT_CONFIG).read_text(encoding="utf-8")) or {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value")
        payload[key.strip()] = yaml.safe_load(raw)
    return TrainConfig.model_validate(payload)
