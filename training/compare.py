"""Side-by-side evaluation of the model and both baselines on the same labeled texts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.predictor import Predictor
from training.baselines import FrozenEmbeddingBaseline, TfidfBaseline
from training.corpus import CorpusRecord, LabeledText
from training.evaluate import evaluate, scored_from_predictions

SYSTEMS = ("model", "tfidf_logreg", "frozen_e5_logreg")


def compare_systems(
    records: Sequence[LabeledText], predictor: Predictor, corpus: Sequence[CorpusRecord], backbone_dir: Path
) -> dict[str, dict[str, Any]]:
    """Reports of the model and of both baselines (fitted on the corpus train split, thresholds on dev)."""
    train = [r for r in corpus if r.split == "train"]
    dev = [r for r in corpus if r.split == "dev" and not r.augmented]
    texts = [r.text for r in records]
    frozen = FrozenEmbeddingBaseline(backbone_dir, predictor.metadata.max_length).fit(train, dev)
    return {
        "model": evaluate(scored_from_predictions(predictor.predict(texts)), records),
        "tfidf_logreg": evaluate(TfidfBaseline().fit(train, dev).score(records), records),
        "frozen_e5_logreg": evaluate(frozen.score(records), records),
    }


def comparison_markdown(reports: dict[str, dict[str, Any]], title: str) -> str:
    """One table: macro-F1 over costs, abuse F1 and churn F1 per language, each system side by side."""
    groups = ["all", *reports["model"]["by_language"]]
    header = "| metric | group | " + " | ".join(reports) + " |"
    lines = [f"### {title}", "", header, "|---|---|" + "---|" * len(reports)]
    for metric in ("macro_f1_costs", "abuse_f1", "churn_f1"):
        for group in groups:
            values = [
                (report["overall"] if group == "all" else report["by_language"][group])[metric]
                for report in reports.values()
            ]
            lines.append(f"| {metric} | {group} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines) + "\n"
