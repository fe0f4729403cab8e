"""Reference systems the model must beat: TF-IDF + logistic regression, and frozen E5 embeddings + logistic regression."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from model.calibration import tune_threshold
from model.classifier import mean_pool
from model.labels import ALL_LABELS
from model.text import encode_texts, normalize_text
from training.corpus import LabeledText
from training.evaluate import Scored, targets_matrix


class _PerLabelLogistic:
    """One balanced logistic regression per label, with a decision threshold tuned on dev."""

    def __init__(self) -> None:
        self.models: list[LogisticRegression | float] = []
        self.thresholds: list[float] = []

    def fit(self, train_x: object, train_y: np.ndarray, dev_x: object, dev_y: np.ndarray) -> None:
        for i in range(len(ALL_LABELS)):
            column = train_y[:, i]
            if column.min() == column.max():
                self.models.append(float(column[0]))
                self.thresholds.append(0.5)
                continue
            model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000)
            model.fit(train_x, column)
            self.models.append(model)
            self.thresholds.append(tune_threshold(model.predict_proba(dev_x)[:, 1], dev_y[:, i]))

    def score(self, features: object, n: int) -> Scored:
        columns = [np.full(n, m) if isinstance(m, float) else m.predict_proba(features)[:, 1] for m in self.models]
        probabilities = np.stack(columns, axis=1)
        return Scored(probabilities, probabilities >= np.array(self.thresholds))


class TfidfBaseline:
    """Word 1-2-grams and character 2-5-grams, TF-IDF weighted, into per-label logistic regression."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=200_000
        )
        self.head = _PerLabelLogistic()

    def _features(self, texts: Sequence[str], fit: bool = False) -> object:
        cleaned = [normalize_text(t).lower() for t in texts]
        if fit:
            return hstack([self.words.fit_transform(cleaned), self.chars.fit_transform(cleaned)]).tocsr()
        return hstack([self.words.transform(cleaned), self.chars.transform(cleaned)]).tocsr()

    def fit(self, train: Sequence[LabeledText], dev: Sequence[LabeledText]) -> TfidfBaseline:
        train_x = self._features([r.text for r in train], fit=True)
        dev_x = self._features([r.text for r in dev])
        self.head.fit(train_x, targets_matrix(train), dev_x, targets_matrix(dev))
        return self

    def score(self, records: Sequence[LabeledText]) -> Scored:
        return self.head.score(self._features([r.text for r in records]), len(records))


class FrozenEmbeddingBaseline:
    """Mean-pooled embeddings of the untouched backbone into per-label logistic regression (a SetFit-style head)."""

    def __init__(self, backbone_dir: Path, max_length: int = 256) -> None:
        from transformers import BertModel, PreTrainedTokenizerFast

        self.tokenizer = PreTrainedTokenizerFast.from_pretrained(backbone_dir)
        self.encoder = BertModel.from_pretrained(backbone_dir, add_pooling_layer=False, use_safetensors=True).eval()
        self.max_length = max_length
        self.head = _PerLabelLogistic()

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        ids = encode_texts(self.tokenizer, texts, self.max_length)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), self.encoder.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self.tokenizer.pad({"input_ids": [ids[i] for i in chunk]}, return_tensors="pt")
                hidden = self.encoder(**batch).last_hidden_state
                out[chunk] = torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1).numpy()
        return out

    def fit(self, train: Sequence[LabeledText], dev: Sequence[LabeledText]) -> FrozenEmbeddingBaseline:
        train_x = self.embed([r.text for r in train])
        dev_x = self.embed([r.text for r in dev])
        self.head.fit(train_x, targets_matrix(train), dev_x, targets_matrix(dev))
        return self

    def score(self, records: Sequence[LabeledText]) -> Scored:
        return self.head.score(self.embed([r.text for r in records]), len(records))
