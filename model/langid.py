"""Language detection (ru / ro / bg / other) from hashed character n-grams and a linear model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from model.labels import OTHER_LANGUAGE
from model.text import normalize_text

LANGID_WEIGHTS = "langid.safetensors"
LANGID_CONFIG = "langid.json"
N_FEATURES = 2**17
NGRAMS = (1, 4)


VECTORIZER = HashingVectorizer(
    analyzer="char_wb", ngram_range=NGRAMS, n_features=N_FEATURES, alternate_sign=False, lowercase=True
)
"""Stateless (hashing needs no fitting), so one instance serves every call."""


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


@dataclass
class LanguageDetector:
    """Linear classifier over hashed character 1-4-grams; `other` for other languages or no letters at all."""

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    coef_by_feature: np.ndarray = field(init=False, repr=False)
    """`coef` transposed into contiguous memory: a sparse row times it is ten times faster than times `coef.T`."""

    def __post_init__(self) -> None:
        self.coef_by_feature = np.ascontiguousarray(self.coef.T)

    @classmethod
    def fit(cls, texts: Sequence[str], languages: Sequence[str]) -> LanguageDetector:
        features = VECTORIZER.transform([normalize_text(t) for t in texts])
        model = LogisticRegression(C=20.0, max_iter=2000)
        model.fit(features, list(languages))
        return cls(
            [str(c) for c in model.classes_], model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
        )

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(language, probability) per text."""
        features = VECTORIZER.transform([normalize_text(t) for t in texts])
        scores = np.asarray(features @ self.coef_by_feature) + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        return [
            (self.classes[i], float(p[i])) if _has_letters(text) else (OTHER_LANGUAGE, 1.0)
            for text, i, p in zip(texts, best, probabilities, strict=True)
        ]

    def save(self, directory: Path) -> None:
        weights = {"coef": np.ascontiguousarray(self.coef), "intercept": np.ascontiguousarray(self.intercept)}
        save_file(weights, str(directory / LANGID_WEIGHTS))
        config = {"classes": self.classes, "n_features": N_FEATURES, "ngram_range": list(NGRAMS)}
        (directory / LANGID_CONFIG).write_text(json.dumps(config), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LanguageDetector:
        config = json.loads((directory / LANGID_CONFIG).read_text(encoding="utf-8"))
        if config["n_features"] != N_FEATURES or tuple(config["ngram_range"]) != NGRAMS:
            raise ValueError(f"{directory}: language detector was saved with other features")
        weights = load_file(str(directory / LANGID_WEIGHTS))
        return cls(list(config["classes"]), weights["coef"], weights["intercept"])
