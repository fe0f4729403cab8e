"""The service's commands: `triage serve`, `triage keys ...`, `triage export-feedback` and `triage tag`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.settings import get_settings

if TYPE_CHECKING:
    from serve.db import Database

console = Console(width=140)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: settings' host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings' port).")] = None,
) -> None:
    """Start the service with the configured model and database (SQLite by default), migrations applied."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from model.bundle import ModelDirectoryError
    from remedies.playbook import PlaybookError
    from serve.app import create_app
    from serve.metrics import Metrics
    from serve.resources import load_resources

    settings = get_settings()
    try:
        resources = load_resources(settings, Metrics())
    except ModelDirectoryError as exc:
        raise _fail(f"cannot start: the model is unusable: {exc}") from exc
    except PlaybookError as exc:
        raise _fail(f"cannot start: {exc}") from exc
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise _fail(f"cannot start: database {_without_password(settings.database_url)!r}: {exc}") from exc
    console.print(f"model {resources.classifier.version}, database {resources.database.engine.url!r}")
    uvicorn.run(create_app(settings, resources), host=host or settings.host, port=port or settings.port)


def _without_password(url: str) -> str:
    """The database URL as it may be printed: any password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def _database() -> Database:
    from serve.db import open_database

    return open_database(get_settings().database_url)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="ingest, reviewer, manager or admin.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key (stored with feedback).")],
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from serve.auth import Role, create_key

    if role not in Role.__members__:
        raise _fail(f"unknown role {role!r}; one of {', '.join(Role)}")
    database = _database()
    with database.session() as session:
        row, key = create_key(session, name, Role(role))
    database.close()
    console.print(f"created key {row.id} ({row.role}, {row.name}); store it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key with its role and state (the keys themselves are not stored)."""
    from serve.auth import list_keys

    database = _database()
    with database.session() as session:
        rows = list_keys(session)
    database.close()
    table = Table(title="API keys")
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column)
    for row in rows:
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else ""
        table.add_row(str(row.id), row.name, row.role, row.created_at.isoformat(timespec="seconds"), revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="Id from `triage keys list`.")]) -> None:
    """Revoke a key: it stops working at once."""
    from serve.auth import UnknownKeyError, revoke_key

    database = _database()
    try:
        with database.session() as session:
            row = revoke_key(session, key_id)
    except UnknownKeyError as exc:
        raise _fail(str(exc)) from exc
    finally:
        database.close()
    console.print(f"key {row.id} ({row.name}) revoked")


def export_feedback(
    output: Annotated[Path, typer.Option(help="JSONL file to write (corpus schema).")],
    split: Annotated[str, typer.Option(help="Split of the exported records: train or dev.")] = "train",
    domain: Annotated[str, typer.Option(help="Domain written on every record.")] = "helpdesk",
    since: Annotated[
        datetime | None, typer.Option(help="Only reviews at or after this date.", formats=["%Y-%m-%d"])
    ] = None,
) -> None:
    """Write reviewed tickets (confirmed or corrected labels) as corpus-schema JSONL for `triage train --data`."""
    from serve.export import feedback_records
    from serve.store import reviewed_tickets

    if split not in ("train", "dev"):
        raise _fail("split must be train or dev (test records must not come from feedback)")
    database = _database()
    with database.session() as session:
        exported = feedback_records(reviewed_tickets(session, since and since.replace(tzinfo=UTC)), split, domain)
    database.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(r.model_dump_json() + "\n" for r in exported.records), encoding="utf-8")
    for reason in exported.skipped:
        console.print(f"skipped {reason}", markup=False)
    console.print(f"{len(exported.records)} records written to {output}", markup=False)


def tag(
    input_file: Annotated[Path, typer.Argument(help="Inbox export: .csv, .jsonl or .parquet.")],
    output: Annotated[Path | None, typer.Option(help="Results: .csv, or JSONL (default: INPUT.tags.jsonl).")] = None,
    text_column: Annotated[str, typer.Option(help="Column holding the text.")] = "text",
    id_column: Annotated[str, typer.Option(help="Column holding the id (default: row number if absent).")] = "id",
    chunk_size: Annotated[int, typer.Option(min=1, help="Texts classified per model call.")] = 64,
    manager_lang: Annotated[str, typer.Option(help="Language of remedy titles: ru, ro, bg or en.")] = "en",
    model: Annotated[Path | None, typer.Option("--model", help="Model directory (default: settings').")] = None,
) -> None:
    """Tag an inbox export in chunks, streaming: labels, tags and suggested remedies per row."""
    from model.bundle import ModelDirectoryError
    from model.predictor import Predictor
    from remedies.playbook import load_playbook
    from serve.classifier import Classifier
    from triage.tagging import TagInputError, count_rows, file_format, read_rows, tag_rows, write_results

    settings = get_settings()
    destination = output or input_file.with_suffix(".tags.jsonl")
    if manager_lang not in ("ru", "ro", "bg", "en"):
        raise _fail("manager language must be ru, ro, bg or en")
    try:
        file_format(input_file)
        if not input_file.is_file():
            raise TagInputError(f"{input_file}: no such file")
        predictor = Predictor.load(model or settings.model_dir, settings.cache_dir, settings.backbone_file)
    except (TagInputError, ModelDirectoryError) as exc:
        raise _fail(str(exc)) from exc
    classifier = Classifier(predictor, load_playbook(settings.playbook_file))
    columns = [SpinnerColumn(), TextColumn("tagging"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("tag", total=count_rows(input_file))

        def advancing(results: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
            for result in results:
                progress.advance(task)
                yield result

        rows = read_rows(input_file, text_column, id_column)
        try:
            written = write_results(
                advancing(tag_rows(classifier, rows, chunk_size, manager_lang, settings.tag_prefix)), destination
            )
        except (TagInputError, UnicodeDecodeError) as exc:
            raise _fail(str(exc)) from exc
    console.print(f"{written} rows tagged into {destination} by model {predictor.version}", markup=False)
