"""What each adaptation method costs on this machine: LoRA adapters on every encoder layer, or training the top
layers over cached activations of the frozen lower ones.

    .venv/bin/python -m bench.adaptation [--steps 30] [--methods top_layers,lora] [--evaluate FILE ...]

Runs `triage train` with each method for the same number of optimizer steps on the same data and config, then
prints side by side: seconds per optimizer step, the fixed cost outside the steps (loading, tokenising, caching,
calibration, export), the projected time of a full run of the configured epochs and, for each `--evaluate` file,
the trained model's macro-F1 over the costs on it (the report of `triage evaluate`), so quality is compared at
equal steps.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from model.bundle import ModelMetadata
from model.predictor import Predictor
from training.config import load_config
from training.corpus import LabeledText, read_records
from training.evaluate import evaluate_predictor
from triage.settings import get_settings


def macro_f1_scores(model: Path, files: list[Path]) -> list[float]:
    """Macro-F1 over the costs of `model` on each labeled JSONL file, as `triage evaluate` reports it."""
    if not files:
        return []
    settings = get_settings()
    predictor = Predictor.load(model, settings.cache_dir, settings.backbone_file)
    reports = [evaluate_predictor(predictor, read_records([path], LabeledText)) for path in files]
    return [float(report["overall"]["macro_f1_costs"]) for report in reports]


def run_method(method: str, steps: int, folder: Path, evaluate: list[Path]) -> dict[str, Any]:
    """Train `steps` optimizer steps with `method` in a fresh process; its timings and scores on `evaluate`."""
    output = folder / method
    command = [sys.executable, "-m", "triage.cli", "train", "--set", f"method={method}", "--set", f"max_steps={steps}"]
    subprocess.run([*command, "--output", str(output)], check=True, capture_output=True)
    data = ModelMetadata.load(output).training_data
    return {
        "method": method,
        "seconds_per_step": data["trainer_seconds"] / data["optimizer_steps"],
        "fixed_seconds": data["training_seconds"] - data["trainer_seconds"],
        "train_records": data["train_records"],
        "macro_f1": macro_f1_scores(output, evaluate),
    }


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per method")
    parser.add_argument("--methods", default="top_layers,lora", help="comma-separated methods")
    parser.add_argument(
        "--evaluate", type=Path, action="append", default=[], help="labeled JSONL to score each model on (repeatable)"
    )
    args = parser.parse_args()
    config = load_config(None, [])
    with tempfile.TemporaryDirectory() as folder:
        results = [run_method(method, args.steps, Path(folder), args.evaluate) for method in args.methods.split(",")]
    steps_per_epoch = math.ceil(results[0]["train_records"] / config.batch_size)
    full_steps = math.ceil(steps_per_epoch * config.epochs)
    title = f"{args.steps} optimizer steps each; a full run is {full_steps} steps ({config.epochs} epochs)"
    table = Table(title=title + ("; F1 = macro-F1 over the costs" if args.evaluate else ""))
    score_columns = [f"F1 {path.parent.name}/{path.stem}" for path in args.evaluate]
    for column in ("method", "s / step", "fixed s", "projected full run, min", *score_columns):
        table.add_column(column, justify="left" if column == "method" else "right")
    for result in results:
        projected = (result["fixed_seconds"] + result["seconds_per_step"] * full_steps) / 60
        scores = [f"{score:.3f}" for score in result["macro_f1"]]
        table.add_row(
            result["method"],
            f"{result['seconds_per_step']:.2f}",
            f"{result['fixed_seconds']:.0f}",
            f"{projected:.0f}",
            *scores,
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
