"""Evaluation report: per language and per label precision/recall/F1, macro-F1 over costs, ECE, confusion counts.

Macro-F1 over the costs averages the cost labels that occur at least once in the evaluated group: a label no text
carries has no F1 to measure (its false positives still show in that label's precision and confusion counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.labels import ALL_LABELS, COST_LABELS, label_vector
from model.predictor import Prediction, Predictor
from training.corpus import LabeledText

ECE_BINS = 10


@dataclass(frozen=True)
class Scored:
    """A system's calibrated probabilities and decisions on a set of labeled texts (rows follow `ALL_LABELS`)."""

    probabilities: np.ndarray
    decisions: np.ndarray
    languages: list[str] | None = None
    """Detected languages, if the system detects them."""


def targets_matrix(records: Sequence[LabeledText]) -> np.ndarray:
    return np.array([label_vector(r.costs, r.abuse_risk, r.churn, r.is_complaint) for r in records], dtype=np.int8)


def binary_scores(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float | int]:
    """Precision, recall, F1 and the confusion counts of one label."""
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    tn = int(np.sum(~predicted & ~actual))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def expected_calibration_error(probabilities: np.ndarray, actual: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(probabilities[members].mean() - actual[members].mean())
    return float(total / len(probabilities)) if len(probabilities) else 0.0


def _group_report(scored: Scored, targets: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    labels: dict[str, Any] = {}
    for i, name in enumerate(ALL_LABELS):
        predicted = scored.decisions[rows, i].astype(bool)
        actual = targets[rows, i].astype(bool)
        labels[name] = binary_scores(predicted, actual)
        labels[name]["ece"] = expected_calibration_error(scored.probabilities[rows, i], actual.astype(float))
    present = [name for name in COST_LABELS if labels[name]["support"] > 0]
    return {
        "n": int(rows.sum()),
        "macro_f1_costs": float(np.mean([labels[name]["f1"] for name in present])) if present else 0.0,
        "macro_f1_costs_labels": present,
        "abuse_f1": labels["abuse_risk"]["f1"],
        "churn_f1": labels["churn"]["f1"],
        "labels": labels,
    }


def evaluate(scored: Scored, records: Sequence[LabeledText]) -> dict[str, Any]:
    """The full report as a JSON-ready dict: overall, then one group per language present."""
    targets = targets_matrix(records)
    languages = np.array([r.lang for r in records])
    report: dict[str, Any] = {"overall": _group_report(scored, targets, np.ones(len(records), dtype=bool))}
    report["by_language"] = {
        lang: _group_report(scored, targets, languages == lang) for lang in sorted(set(languages.tolist()))
    }
    if scored.languages is not None:
        detected = np.array(scored.languages)
        report["language_accuracy"] = float(np.mean(detected == languages)) if len(records) else 0.0
    return report


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def to_markdown(report: dict[str, Any], title: str) -> str:
    """A readable Markdown rendering of `evaluate`'s report."""
    lines = [f"### {title}", ""]
    groups = {"all": report["overall"], **report["by_language"]}
    lines += ["| group | n | macro-F1 (costs) | abuse F1 | churn F1 |", "|---|---|---|---|---|"]
    for name, group in groups.items():
        lines.append(
            f"| {name} | {group['n']} | {_fmt(group['macro_f1_costs'])} | {_fmt(group['abuse_f1'])} | "
            f"{_fmt(group['churn_f1'])} |"
        )
    if "language_accuracy" in report:
        lines += ["", f"Language detection accuracy: {report['language_accuracy']:.4f}"]
    lines += ["", "| group | label | precision | recall | F1 | support | ECE | TP | FP | FN | TN |"]
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, group in groups.items():
        for label, s in group["labels"].items():
            lines.append(
                f"| {name} | {label} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['f1'])} | "
                f"{s['support']} | {_fmt(s['ece'])} | {s['tp']} | {s['fp']} | {s['fn']} | {s['tn']} |"
            )
    return "\n".join(lines) + "\n"


def scored_from_predictions(predictions: Sequence[Prediction]) -> Scored:
    """Arrange a predictor's output as a `Scored` for `evaluate`."""
    probabilities = np.array([[p.labels[name].prob for name in ALL_LABELS] for p in predictions], dtype=np.float64)
    decisions = np.array([[p.labels[name].decision for name in ALL_LABELS] for p in predictions], dtype=bool)
    return Scored(
        probabilities.reshape(-1, len(ALL_LABELS)),
        decisions.reshape(-1, len(ALL_LABELS)),
        [p.lang for p in predictions],
    )


def evaluate_predictor(predictor: Predictor, records: Sequence[LabeledText]) -> dict[str, Any]:
    """The report (`evaluate`) of `predictor`'s predictions on the texts of `records`."""
    return evaluate(scored_from_predictions(predictor.predict([r.text for r in records])), records)
