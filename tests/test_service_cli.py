"""The service's commands: `triage keys ...` and `triage tag` on CSV, JSONL and Parquet inbox exports."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from model.labels import ALL_LABELS
from serve.auth import authenticate
from serve.db import open_database
from tests.service_support import ServiceModel
from triage.cli import app as cli
from triage.settings import get_settings
from triage.tagging import Row, read_rows

ROWS = [
    {"ticket": "a-1", "body": "Жду деньги, верните заказ"},
    {"ticket": "a-2", "body": "Comanda nu a ajuns, vreau banii inapoi"},
    {"ticket": "a-3", "body": "   "},
    {"ticket": "a-4", "body": "Поръчката не пристигна, върнете парите"},
]


@pytest.fixture
def cli_env(service_model: ServiceModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRIAGE_DATABASE_URL", url)
    monkeypatch.setenv("TRIAGE_MODEL_DIR", str(service_model.model_dir))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(service_model.cache_dir))
    monkeypatch.setenv("TRIAGE_BACKBONE_FILE", str(service_model.backbone_file))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_keys_create_list_and_revoke(cli_env: str) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "reviewer", "--name", "maria"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("trk_") and "created key 1 (reviewer, maria)" in created.output
    database = open_database(cli_env)
    with database.session() as session:
        caller = authenticate(session, key)
        assert caller is not None and caller.name == "maria" and caller.role == "reviewer"
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.exit_code == 0 and "maria" in listed.output and key not in listed.output
    assert runner.invoke(cli, ["keys", "revoke", "1"]).exit_code == 0
    with database.session() as session:
        assert authenticate(session, key) is None
    database.close()
    assert runner.invoke(cli, ["keys", "revoke", "7"]).exit_code == 1
    bad = runner.invoke(cli, ["keys", "create", "--role", "root", "--name", "x"])
    assert bad.exit_code == 1 and "unknown role 'root'" in bad.output


def write_input(path: Path) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["ticket", "body"])
            writer.writeheader()
            writer.writerows(ROWS)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(ROWS), path, row_group_size=2)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_tag_reads_every_format_and_writes_jsonl_with_tags_and_remedies(
    cli_env: str, tmp_path: Path, suffix: str
) -> None:
    source = write_input(tmp_path / f"inbox{suffix}")
    output = tmp_path / "tags.jsonl"
    args = ["tag", str(source), "--output", str(output), "--text-column", "body", "--id-column", "ticket"]
    result = CliRunner().invoke(cli, [*args, "--chunk-size", "2", "--manager-lang", "ro"])
    assert result.exit_code == 0, result.output
    assert "4 rows tagged" in result.output
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a-1", "a-2", "a-3", "a-4"]
    assert rows[2] == {"id": "a-3", "error": "blank text"}
    for row in (rows[0], rows[1], rows[3]):
        assert set(row["labels"]) == set(ALL_LABELS) and row["lang"] in {"ru", "ro", "bg", "other"}
        assert row["remedies"]["manager_lang"] == "ro" and row["remedies"]["suggestions"]
        assert f"triage_lang_{row['lang']}" in row["tags"]


def test_tag_writes_csv_and_numbers_rows_without_an_id_column(cli_env: str, tmp_path: Path) -> None:
    source = write_input(tmp_path / "inbox.csv")
    output = tmp_path / "tags.csv"
    result = CliRunner().invoke(cli, ["tag", str(source), "--output", str(output), "--text-column", "body"])
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"] and rows[2]["error"] == "blank text"
    first = rows[0]
    assert 0.0 <= float(first["economic_prob"]) <= 1.0 and first["economic"] in {"0", "1"}
    assert first["remedies"] and first["top_remedy"] and first["mode"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("inbox.txt", "hello", "unknown format '.txt'"),
        ("inbox.jsonl", '{"text": "ok"}\nnot json\n', "inbox.jsonl:2: invalid JSON"),
        ("inbox.csv", "body\nЖду деньги\n", "no column 'text'"),
        ("missing.csv", None, "no such file"),
    ],
)
def test_tag_reports_unreadable_input(
    cli_env: str, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["tag", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1 and message in result.output


def test_rows_are_read_lazily(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    source.write_text('{"id": 1, "text": "a"}\n' * 3 + "broken\n", encoding="utf-8")
    rows = read_rows(source)
    assert next(rows) == Row("1", "a")  # the broken last line is not read yet


def test_start_up_errors_never_print_the_database_password() -> None:
    from triage.service_cli import _without_password

    shown = _without_password("postgresql+psycopg://triage:s3cr3t-pw@db.internal:5432/triage")
    assert "s3cr3t-pw" not in shown and shown.startswith("postgresql+psycopg://triage:***@db.internal")
    assert _without_password("not a url at all") == "(unparseable URL)"
