"""What each adaptation method costs on this machine: LoRA adapters on every encoder layer, or training the top
layers over cached activations of the frozen lower ones.

    .venv/bin/python -m bench.adaptation [--steps 30] [--methods top_layers,lora]

Runs `triage train` with each method for the same number of optimizer steps on the same data and config, then
prints side by side: seconds per optimizer step, the fixed cost outside the steps (loading, tokenising, caching,
calibration, export), and the projected time of a full run of the configured epochs.
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
from training.config import load_config


def run_method(method: str, steps: int, folder: Path) -> dict[str, Any]:
    """Train `steps` optimizer steps with `method` in a fresh process; its timings as recorded in the model."""
    output = folder / method
    command = [sys.executable, "-m", "triage.cli", "train", "--set", f"method={method}", "--set", f"max_steps={steps}"]
    subprocess.run([*command, "--output", str(output)], check=True, capture_output=True)
    data = ModelMetadata.load(output).training_data
    return {
        "method": method,
        "seconds_per_step": data["trainer_seconds"] / data["optimizer_steps"],
        "fixed_seconds": data["training_seconds"] - data["trainer_seconds"],
        "train_records": data["train_records"],
    }


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per method")
    parser.add_argument("--methods", default="top_layers,lora", help="comma-separated methods")
    args = parser.parse_args()
    config = load_config(None, [])
    with tempfile.TemporaryDirectory() as folder:
        results = [run_method(method, args.steps, Path(folder)) for method in args.methods.split(",")]
    steps_per_epoch = math.ceil(results[0]["train_records"] / config.batch_size)
    full_steps = math.ceil(steps_per_epoch * config.epochs)
    table = Table(title=f"{args.steps} optimizer steps each; a full run is {full_steps} steps ({config.epochs} epochs)")
    for column in ("method", "s / step", "fixed s", "projected full run, min"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for result in results:
        projected = (result["fixed_seconds"] + result["seconds_per_step"] * full_steps) / 60
        table.add_row(
            result["method"], f"{result['seconds_per_step']:.2f}", f"{result['fixed_seconds']:.0f}", f"{projected:.0f}"
        )
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
