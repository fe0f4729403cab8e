"""The corpus schema: one labeled text per JSON line, validated record by record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import datasets
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from model.labels import CHANNELS, COST_LABELS

FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "text": datasets.Value("string"),
        "lang": datasets.Value("string"),
        "costs": datasets.Sequence(datasets.Value("string")),
        "abuse_risk": datasets.Value("int8"),
        "churn": datasets.Value("int8"),
        "is_complaint": datasets.Value("int8"),
        "domain": datasets.Value("string"),
        "channel": datasets.Value("string"),
        "split": datasets.Value("string"),
        "augmented": datasets.Value("bool"),
    }
)
"""Fixed `datasets.Features` of every corpus file (`load_dataset("json", features=FEATURES)`)."""


class LabeledText(BaseModel):
    """The fields evaluation needs from any labeled file; other fields are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    lang: Literal["ru", "ro", "bg"]
    costs: list[str]
    abuse_risk: Literal[0, 1]
    churn: Literal[0, 1]
    is_complaint: Literal[0, 1]
    split: str | None = None

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is blank")
        return text

    @field_validator("costs")
    @classmethod
    def _costs_canonical(cls, costs: list[str]) -> list[str]:
        unknown = [c for c in costs if c not in COST_LABELS]
        if unknown:
            raise ValueError(f"unknown cost labels {unknown}; allowed: {list(COST_LABELS)}")
        if costs != [c for c in COST_LABELS if c in costs]:
            raise ValueError(f"costs must be unique and in the order {list(COST_LABELS)}")
        return costs


class CorpusRecord(LabeledText):
    """One record of the project's corpus schema: labels plus provenance, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True)

    domain: str = Field(min_length=1)
    channel: str
    split: Literal["train", "dev", "test"]
    augmented: bool = False

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, channel: str) -> str:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; allowed: {list(CHANNELS)}")
        return channel


R = TypeVar("R", bound=LabeledText)


@dataclass(frozen=True)
class RecordError:
    """A problem found on one line of a JSONL file."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _parse_line(path: Path, number: int, raw: str, schema: type[R]) -> R | RecordError:
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        return RecordError(path, number, f"invalid JSON: {exc.msg}")
    if not isinstance(payload, dict):
        return RecordError(path, number, "a record must be a JSON object")
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors())
        return RecordError(path, number, problems)


def validate_file(path: Path, schema: type[R]) -> tuple[list[R], list[RecordError]]:
    """Parse every line of `path` with `schema`; return the valid records and a line-numbered error per bad line."""
    records: list[R] = []
    errors: list[RecordError] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            parsed = _parse_line(path, number, raw, schema)
            if isinstance(parsed, RecordError):
                errors.append(parsed)
                continue
            if parsed.id in seen:
                errors.append(
                    RecordError(path, number, f"duplicate id {parsed.id!r} (first on line {seen[parsed.id]})")
                )
                continue
            seen[parsed.id] = number
            records.append(parsed)
    return records, errors


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every JSONL file of the corpus, in a stable order."""
    return sorted(corpus_dir.rglob("*.jsonl"))


def read_records(paths: Iterable[Path], schema: type[R]) -> list[R]:
    """Read and validate several files; raise `ValueError` listing every bad line if any."""
    records: list[R] = []
    errors: list[RecordError] = []
    for path in paths:
        found, bad = validate_file(path, schema)
        records.extend(found)
        errors.extend(bad)
    if errors:
        shown = "\n".join(map(str, errors[:20]))
        raise ValueError(f"{len(errors)} invalid records:\n{shown}")
    return records


def to_dataset(records: Iterable[CorpusRecord]) -> datasets.Dataset:
    """A `datasets.Dataset` with the fixed corpus features."""
    return datasets.Dataset.from_list([r.model_dump() for r in records], features=FEATURES)


def iter_split(records: Iterable[CorpusRecord], split: str) -> Iterator[CorpusRecord]:
    """Records of one split."""
    return (r for r in records if r.split == split)
