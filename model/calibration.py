"""Per-label calibration (Platt scaling on dev logits), decision thresholds from dev, confidence levels."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from sklearn.linear_model import LogisticRegression

Confidence = Literal["high", "medium", "low"]

HIGH_CONFIDENCE = 0.85
MEDIUM_CONFIDENCE = 0.65
"""Calibrated probability that the decision is right, at or above which a decision is high / medium confidence."""


@dataclass(frozen=True)
class LabelCalibration:
    """Maps one label's raw logit to a calibrated probability, and that to a decision."""

    scale: float = 1.0
    bias: float = 0.0
    threshold: float = 0.5

    def probability(self, logits: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.scale * logits + self.bias)))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def fit_platt(logits: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Scale and bias of a one-feature logistic regression from logits to targets."""
    if targets.min() == targets.max():
        return 1.0, 0.0
    regression = LogisticRegression(C=100.0)
    regression.fit(logits.reshape(-1, 1), targets)
    return float(regression.coef_[0, 0]), float(regression.intercept_[0])


def f1_at(probabilities: np.ndarray, targets: np.ndarray, threshold: float) -> float:
    predicted = probabilities >= threshold
    true_positive = float(np.sum(predicted & (targets == 1)))
    denominator = float(predicted.sum() + targets.sum())
    return 2 * true_positive / denominator if denominator else 1.0


def tune_threshold(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Half the best F1 reachable on these calibrated probabilities, within [0.05, 0.95].

    For calibrated probabilities the F1-optimal threshold is half the optimal F1 (Lipton, Elkan and Naryanaswamy,
    2014, "Thresholding classifiers to maximize F1 score"). Taking it from that identity, rather than the grid point
    where dev F1 peaks, depends on dev only through the peak's height, not its noisy position.
    """
    if targets.sum() == 0:
        return 0.5
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    best = max(f1_at(probabilities, targets, t) for t in grid)
    return float(np.clip(round(best / 2, 2), 0.05, 0.95))


def calibrate(logits: np.ndarray, targets: np.ndarray) -> LabelCalibration:
    """Fit Platt scaling, then tune the decision threshold on the calibrated probabilities."""
    scale, bias = fit_platt(logits, targets)
    fitted = LabelCalibration(scale, bias)
    return LabelCalibration(scale, bias, tune_threshold(fitted.probability(logits), targets))


def confidence_level(probability: float, decision: bool) -> Confidence:
    """How sure the model is of its decision, from the calibrated probability that the decision is right."""
    sure = probability if decision else 1.0 - probability
    if sure >= HIGH_CONFIDENCE:
        return "high"
    return "medium" if sure >= MEDIUM_CONFIDENCE else "low"
