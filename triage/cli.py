"""The `triage` command line: one entry point whose subcommands cover data, model and service."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from triage.settings import get_settings

app = typer.Typer(help="Complaint triage for Russian, Romanian and Bulgarian texts.", no_args_is_help=True)
data_app = typer.Typer(help="Inspect and validate labeled corpora.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console(width=140)


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
