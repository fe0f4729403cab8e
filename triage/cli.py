"""The `triage` command line: one entry point whose subcommands cover data, model and service."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from triage.service_cli import export_feedback, keys_app, serve, tag
from triage.settings import get_settings

app = typer.Typer(help="Complaint triage for Russian, Romanian and Bulgarian texts.", no_args_is_help=True)
data_app = typer.Typer(help="Inspect and validate labeled corpora.", no_args_is_help=True)
app.add_typer(data_app, name="data")
remedies_app = typer.Typer(help="Check the remedy playbook.", no_args_is_help=True)
app.add_typer(remedies_app, name="remedies")
app.add_typer(keys_app, name="keys")
app.command("serve")(serve)
app.command("tag")(tag)
app.command("export-feedback")(export_feedback)

console = Console(width=140)

if TYPE_CHECKING:
    from model.predictor import Predictor

ModelOption = Annotated[Path | None, typer.Option("--model", help="Model directory (default: settings' model_dir).")]


def load_predictor(model_dir: Path | None) -> Predictor:
    """The model named on the command line, or the configured one."""
    from model.predictor import Predictor

    settings = get_settings()
    return Predictor.load(model_dir or settings.model_dir, settings.cache_dir, settings.backbone_file)


@data_app.command("stats")
def data_stats(
    corpus_dir: Annotated[Path | None, typer.Option(help="Corpus folder (default: the settings' corpus_dir).")] = None,
) -> None:
    """Print per-language, per-split counts and label prevalence."""
    from training.corpus import CorpusRecord, corpus_files, read_records
    from training.stats import STAT_COLUMNS, corpus_stats

    folder = corpus_dir or get_settings().corpus_dir
    records = read_records(corpus_files(folder), CorpusRecord)
    table = Table(title=f"Corpus {folder} ({len(records)} records)")
    table.add_column("lang")
    table.add_column("split")
    table.add_column("n", justify="right")
    for column in STAT_COLUMNS:
        table.add_column(column, justify="right")
    for (lang, split), group in corpus_stats(records).items():
        table.add_row(lang, split, str(group.count), *(f"{group.prevalence(c):.1%}" for c in STAT_COLUMNS))
    console.print(table)


@data_app.command("baseline")
def data_baseline(
    real: Annotated[list[Path], typer.Option(help="Real labeled JSONL to compare with (repeatable).")],
    corpus_dir: Annotated[Path | None, typer.Option(help="Corpus folder (default: the settings' corpus_dir).")] = None,
) -> None:
    """Realism check: TF-IDF + logistic regression fitted on our train split, macro-F1 on our test split vs real text."""
    from training.baselines import TfidfBaseline
    from training.corpus import CorpusRecord, LabeledText, corpus_files, read_records
    from training.evaluate import evaluate as run_evaluation

    corpus = read_records(corpus_files(corpus_dir or get_settings().corpus_dir), CorpusRecord)
    baseline = TfidfBaseline().fit(
        [r for r in corpus if r.split == "train"], [r for r in corpus if r.split == "dev" and not r.augmented]
    )
    test = [r for r in corpus if r.split == "test"]
    real_records = read_records(real, LabeledText)
    ours = run_evaluation(baseline.score(test), test)["by_language"]
    theirs = run_evaluation(baseline.score(real_records), real_records)["by_language"]
    table = Table(title="TF-IDF + logistic regression: macro-F1 over the four costs")
    for column in ("lang", "our test split", "n", "real text", "n"):
        table.add_column(column)
    for lang in sorted(set(ours) | set(theirs)):
        cells = []
        for report in (ours, theirs):
            group = report.get(lang)
            cells += [f"{group['macro_f1_costs']:.3f}", str(group["n"])] if group else ["-", "0"]
        table.add_row(lang, *cells)
    console.print(table)


@data_app.command("validate")
def data_validate(paths: Annotated[list[Path], typer.Argument(help="JSONL files to check.")]) -> None:
    """Check JSONL files against the corpus schema; exit 1 with line-numbered errors if any record is bad."""
    from training.corpus import CorpusRecord, validate_file

    failed = False
    for path in paths:
        if not path.is_file():
            console.print(f"[red]{path}: no such file[/red]")
            failed = True
            continue
        records, errors = validate_file(path, CorpusRecord)
        for error in errors:
            console.print(str(error), markup=False, highlight=False)
        failed = failed or bool(errors)
        console.print(f"{path}: {len(records)} valid, {len(errors)} invalid", markup=False)
    if failed:
        raise typer.Exit(code=1)


@remedies_app.command("check")
def remedies_check(
    path: Annotated[
        Path | None, typer.Argument(help="Playbook YAML (default: the settings' playbook_file, else the shipped one).")
    ] = None,
) -> None:
    """Validate a remedy playbook; exit 1 with line-numbered problems if it is invalid."""
    from remedies.playbook import PlaybookError, load_playbook

    try:
        playbook = load_playbook(path or get_settings().playbook_file)
    except PlaybookError as exc:
        for problem in exc.problems:
            console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        console.print(f"{exc.path}: invalid, {len(exc.problems)} problem(s)", markup=False)
        raise typer.Exit(code=1) from exc
    money = sum(remedy.money for remedy in playbook.remedies)
    console.print(f"{playbook.path}: valid, {len(playbook.remedies)} remedies ({money} promise money)", markup=False)


@app.command("train")
def train(
    config: Annotated[
        Path | None, typer.Option(help="Training config YAML (default: training/configs/default.yaml).")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Override a config key, e.g. --set epochs=2 (repeatable).")
    ] = None,
    data: Annotated[list[Path] | None, typer.Option(help="Corpus-schema JSONL files or folders (repeatable).")] = None,
    output: Annotated[Path | None, typer.Option(help="Where to write the model directory.")] = None,
) -> None:
    """Fine-tune, calibrate and save a model from corpus-schema JSONL (train + dev records)."""
    from training.config import load_config
    from training.train import train_model

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    extra = list(overrides or [])
    if data:
        extra.append("data=" + json.dumps([str(p) for p in data]))
    if output:
        extra.append(f"output_dir={json.dumps(str(output))}")
    settings = get_settings()
    written = train_model(load_config(config, extra), settings.cache_dir, settings.backbone_file)
    console.print(f"model written to {written}")


@app.command("export")
def export(
    model: ModelOption = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder for model.int8.onnx and export.json (default: the cache, where it is used)."),
    ] = None,
) -> None:
    """Build a model's int8 ONNX form (export, fuse, quantise) unless a verified one exists; print its path."""
    from model.bundle import ModelDirectoryError
    from model.export import export_model

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        path = export_model(model or settings.model_dir, settings.cache_dir, settings.backbone_file, output)
    except ModelDirectoryError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=1) from exc
    typer.echo(str(path))


@app.command("evaluate")
def evaluate(
    data: Annotated[list[Path], typer.Option(help="Labeled JSONL file(s) to evaluate on (repeatable).")],
    model: ModelOption = None,
    split: Annotated[str | None, typer.Option(help="Only records of this split (corpus files).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of Markdown.")] = False,
    baselines: Annotated[
        bool, typer.Option(help="Also fit TF-IDF and frozen-embedding baselines on the corpus and compare.")
    ] = False,
) -> None:
    """Per-language, per-label precision/recall/F1, macro-F1 over costs, abuse/churn F1, ECE, confusion counts."""
    from training.corpus import LabeledText, read_records
    from training.evaluate import evaluate_predictor, to_markdown

    records = read_records(data, LabeledText)
    if split is not None:
        records = [r for r in records if r.split == split]
    if not records:
        console.print("[red]no records to evaluate[/red]")
        raise typer.Exit(code=1)
    predictor = load_predictor(model)
    title = f"Model {predictor.version} on {', '.join(map(str, data))}" + (f" (split {split})" if split else "")
    if baselines:
        from model.backbone import ensure_backbone
        from training.compare import compare_systems, comparison_markdown, fit_baselines
        from training.corpus import CorpusRecord, corpus_files

        settings = get_settings()
        corpus = read_records(corpus_files(settings.corpus_dir), CorpusRecord)
        backbone_dir = ensure_backbone(settings.cache_dir, settings.backbone_file)
        fitted = fit_baselines(corpus, backbone_dir, predictor.metadata.max_length)
        reports = compare_systems(records, predictor, fitted)
        typer.echo(json.dumps(reports, indent=2) if as_json else comparison_markdown(reports, title))
        return
    report = evaluate_predictor(predictor, records)
    report["model_version"] = predictor.version
    typer.echo(json.dumps(report, indent=2) if as_json else to_markdown(report, title))


@app.command("predict")
def predict(
    input_file: Annotated[
        Path | None, typer.Argument(help="Text file (one per line) or JSONL; stdin if omitted.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write JSONL here instead of stdout.")] = None,
    model: ModelOption = None,
) -> None:
    """Tag texts and write one JSON object per input: id, lang and every label's prob/decision/confidence."""
    from triage.inputs import InputError, read_inputs

    try:
        with input_file.open(encoding="utf-8") if input_file else sys.stdin as handle:
            inputs = list(read_inputs(handle))
    except (InputError, UnicodeDecodeError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from exc
    predictor = load_predictor(model)
    predictions = predictor.predict([item.text for item in inputs])
    lines = [
        json.dumps({"id": i.id, **p.to_json()}, ensure_ascii=False) for i, p in zip(inputs, predictions, strict=True)
    ]
    if output:
        output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    else:
        for line in lines:
            typer.echo(line)


if __name__ == "__main__":
    app()
