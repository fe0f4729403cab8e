"""Does the int8 ONNX model decide like the PyTorch model? Macro-F1 of both and per-label agreement, per data set.

    .venv/bin/python -m bench.quality [--model DIR] [--real ../shared/real-dev/*.jsonl]

Data sets: our test split (data/corpus) and the real labeled files together (real-dev). Passes (exit 0) when on both
the int8 macro-F1 over the costs is within 0.01 of PyTorch's and every label's decisions agree on at least 98% of
texts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MAX_F1_GAP = 0.01
MIN_AGREEMENT = 0.98
DEFAULT_REAL = sorted((Path(__file__).resolve().parent.parent.parent / "shared" / "real-dev").glob("*.jsonl"))


def compare(name: str, records: Sequence[Any], torch_predictor: Any, onnx_predictor: Any) -> dict[str, Any]:
    """Macro-F1 (costs) of both engines and per-label decision agreement and probability gaps on `records`."""
    from model.labels import ALL_LABELS
    from training.evaluate import evaluate, scored_from_predictions

    texts = [record.text for record in records]
    reference, fast = torch_predictor.predict(texts), onnx_predictor.predict(texts)
    pairs = list(zip(reference, fast, strict=True))
    agreement = {
        label: float(np.mean([r.labels[label].decision == f.labels[label].decision for r, f in pairs]))
        for label in ALL_LABELS
    }
    gaps = np.array([abs(r.labels[n].prob - f.labels[n].prob) for r, f in pairs for n in ALL_LABELS])
    f1 = {
        engine: evaluate(scored_from_predictions(predictions), records)["overall"]["macro_f1_costs"]
        for engine, predictions in (("torch", reference), ("int8", fast))
    }
    worst = min(agreement, key=lambda label: agreement[label])
    return {
        "data": name,
        "n": len(records),
        "f1_torch": f1["torch"],
        "f1_int8": f1["int8"],
        "worst_label": worst,
        "worst_agreement": agreement[worst],
        "mean_prob_gap": float(gaps.mean()),
        "max_prob_gap": float(gaps.max()),
        "passed": abs(f1["int8"] - f1["torch"]) <= MAX_F1_GAP and agreement[worst] >= MIN_AGREEMENT,
    }


def main(argv: list[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from model.predictor import Predictor
    from training.corpus import LabeledText, corpus_files, read_records
    from triage.settings import Runtime, get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=settings.model_dir, help="model directory")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir, help="corpus folder (its test split)")
    parser.add_argument("--real", type=Path, nargs="*", default=DEFAULT_REAL, help="real labeled JSONL files")
    args = parser.parse_args(argv)

    load = {runtime: Predictor.load(args.model, settings.cache_dir, settings.backbone_file, runtime=runtime)
            for runtime in (Runtime.torch, Runtime.onnx)}  # fmt: skip
    if load[Runtime.onnx].runtime != "onnx-int8":
        sys.exit("the int8 ONNX model could not be built or loaded; see the log")
    test = [r for r in read_records(corpus_files(args.corpus), LabeledText) if r.split == "test"]
    datasets = [("our test split", test), ("real-dev", read_records(args.real, LabeledText))]
    rows = [compare(name, records, load[Runtime.torch], load[Runtime.onnx]) for name, records in datasets]

    table = Table(title=f"int8 ONNX vs PyTorch, model {load[Runtime.torch].version}")
    columns = ("data", "n", "macro-F1 torch", "macro-F1 int8", "gap", "worst label", "agreement", "mean |dp|")
    for column in (*columns, "max |dp|", "ok"):
        table.add_column(column, justify="left" if column in ("data", "worst label") else "right")
    for row in rows:
        table.add_row(
            row["data"],
            str(row["n"]),
            f"{row['f1_torch']:.4f}",
            f"{row['f1_int8']:.4f}",
            f"{row['f1_int8'] - row['f1_torch']:+.4f}",
            row["worst_label"],
            f"{row['worst_agreement']:.1%}",
            f"{row['mean_prob_gap']:.4f}",
            f"{row['max_prob_gap']:.3f}",
            "yes" if row["passed"] else "NO",
        )
    Console(width=160).print(table)
    if not all(row["passed"] for row in rows):
        sys.exit(f"FAILED: int8 macro-F1 must be within {MAX_F1_GAP} and per-label agreement >= {MIN_AGREEMENT:.0%}")


if __name__ == "__main__":
    main()
