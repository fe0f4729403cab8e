"""A versioned model directory: what it holds and how its metadata is read and checked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from model.calibration import LabelCalibration
from model.labels import ALL_LABELS, SCHEMA_VERSION
from model.langid import LANGID_CONFIG, LANGID_WEIGHTS

MODEL_CONFIG = "triage_model.json"
MODEL_CARD = "MODEL_CARD.md"
TRAINED_WEIGHTS = "trained.safetensors"
REQUIRED_FILES = (MODEL_CONFIG, TRAINED_WEIGHTS, LANGID_WEIGHTS, LANGID_CONFIG)


@dataclass(frozen=True)
class Adaptation:
    """Which part of the encoder is trained: its top layers, or LoRA adapters (peft) on every layer."""

    method: Literal["top_layers", "lora"] = "top_layers"
    top_layers: int = 2
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1


class ModelDirectoryError(ValueError):
    """A model directory is missing, incomplete, corrupt or of another schema version."""


@dataclass
class ModelMetadata:
    """The contents of `triage_model.json`."""

    version: str
    adaptation: Adaptation
    max_length: int
    backbone_sha256: str
    calibration: dict[str, LabelCalibration]
    labels: tuple[str, ...] = ALL_LABELS
    schema_version: int = SCHEMA_VERSION
    training_data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "version": self.version,
            "labels": list(self.labels),
            "adaptation": self.adaptation.__dict__,
            "max_length": self.max_length,
            "backbone_sha256": self.backbone_sha256,
            "calibration": {name: c.to_dict() for name, c in self.calibration.items()},
            "training_data": self.training_data,
        }

    def save(self, directory: Path) -> None:
        (directory / MODEL_CONFIG).write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> ModelMetadata:
        """Read and check a model directory's metadata; raise `ModelDirectoryError` with the reason."""
        if not directory.is_dir():
            raise ModelDirectoryError(f"model directory {directory} does not exist")
        missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
        if missing:
            raise ModelDirectoryError(f"model directory {directory} lacks {', '.join(missing)}")
        try:
            raw = json.loads((directory / MODEL_CONFIG).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelDirectoryError(f"{directory / MODEL_CONFIG} is not valid JSON: {exc}") from exc
        if raw.get("schema_version") != SCHEMA_VERSION:
            raise ModelDirectoryError(
                f"{directory} has label schema version {raw.get('schema_version')}, this code reads {SCHEMA_VERSION}"
            )
        if tuple(raw.get("labels", ())) != ALL_LABELS:
            raise ModelDirectoryError(f"{directory} predicts labels {raw.get('labels')}, expected {list(ALL_LABELS)}")
        try:
            return cls(
                version=str(raw["version"]),
                adaptation=Adaptation(**raw["adaptation"]),
                max_length=int(raw["max_length"]),
                backbone_sha256=str(raw["backbone_sha256"]),
                calibration={name: LabelCalibration(**raw["calibration"][name]) for name in ALL_LABELS},
                training_data=dict(raw.get("training_data", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelDirectoryError(f"{directory / MODEL_CONFIG} is incomplete: {exc!r}") from exc
