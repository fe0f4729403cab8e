"""Side-by-side evaluation of the model and both baselines on the same labeled texts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from model.predictor import Predictor
from training.baselines import FrozenEmbeddingBaseline, TfidfBaseline
from training.corpus import CorpusRecord, LabeledText
from training.evaluate import Scored, evaluate, evaluate_predictor


class Baseline(Protocol):
    """Anything that scores labeled texts."""

    def score(self, records: Sequence[LabeledText]) -> Scored: ...


def fit_baselines(corpus: Sequence[CorpusRecord], backbone_dir: Path, max_length: int) -> dict[str, Baseline]:
    """Both baselines fitted on the corpus train split, with decision thresholds tuned on dev."""
    train = [r for r in corpus if r.split == "train"]
    dev = [r for r in corpus if r.split == "dev" and not r.augmented]
    return {
        "tfidf_logreg": TfidfBaseline().fit(train, dev),
        "frozen_e5_logreg": FrozenEmbeddingBaseline(backbone_dir, max_length).fit(train, dev),
    }


def compare_systems(
    records: Sequence[LabeledText], predictor: Predictor, baselines: dict[str, Baseline]
) -> dict[str, dict[str, Any]]:
    """Reports of the model and of every baseline on the same records."""
    reports = {"model": evaluate_predictor(predictor, records)}
    for name, baseline in baselines.items():
        reports[name] = evaluate(baseline.score(records), records)
    return reports


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
