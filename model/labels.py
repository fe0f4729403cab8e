"""The label schema: the one place that names every label the model predicts."""

from __future__ import annotations

SCHEMA_VERSION = 1

COST_LABELS: tuple[str, ...] = ("economic", "time", "social", "emotional")
"""The four costs a customer bears, in the canonical order used by the corpus and the model."""

FLAG_LABELS: tuple[str, ...] = ("abuse_risk", "churn", "is_complaint")
"""Binary labels of the whole text."""

ALL_LABELS: tuple[str, ...] = COST_LABELS + FLAG_LABELS

LANGUAGES: tuple[str, ...] = ("ru", "ro", "bg")
"""Languages the corpus is written in; the detector may also answer `OTHER_LANGUAGE`."""

OTHER_LANGUAGE = "other"

SPLITS: tuple[str, ...] = ("train", "dev", "test")

CHANNELS: tuple[str, ...] = ("email", "chat", "review", "social post", "call-centre note")


def label_vector(costs: list[str], abuse_risk: int, churn: int, is_complaint: int) -> list[float]:
    """Multi-hot target vector in `ALL_LABELS` order."""
    flags = {"abuse_risk": abuse_risk, "churn": churn, "is_complaint": is_complaint}
    return [float(name in costs) for name in COST_LABELS] + [float(flags[name]) for name in FLAG_LABELS]
