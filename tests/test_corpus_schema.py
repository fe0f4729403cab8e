"""The corpus schema: validation with line numbers, the fixed Features, the data CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
from typer.testing import CliRunner

from tests.conftest import make_record
from training.corpus import FEATURES, CorpusRecord, LabeledText, read_records, to_dataset, validate_file
from triage.cli import app

WriteJsonl = Callable[[str, list[Any]], Path]


def test_valid_file_has_no_errors(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl("ok.jsonl", [make_record(), make_record(id="ru-x-0002", costs=[])])
    records, errors = validate_file(path, CorpusRecord)
    assert errors == []
    assert [r.id for r in records] == ["ru-x-0001", "ru-x-0002"]


def test_each_bad_record_is_reported_with_its_line(write_jsonl: WriteJsonl) -> None:
    rows: list[Any] = [
        make_record(),
        "{not json",
        make_record(id="a2", costs=["time", "economic"]),
        make_record(id="a3", costs=["money"]),
        make_record(id="a4", lang="en"),
        make_record(id="a5", abuse_risk=2),
        make_record(id="a6", text="   "),
        make_record(id="a7", channel="fax"),
        make_record(id="ru-x-0001"),
        make_record(id="a9", extra_field=1),
        make_record(id="a10", split="real-dev"),
        make_record(id="a11", churn="1"),
    ]
    path = write_jsonl("bad.jsonl", rows)
    records, errors = validate_file(path, CorpusRecord)
    assert [r.id for r in records] == ["ru-x-0001"]
    assert [e.line for e in errors] == list(range(2, 13))
    messages = {e.line: e.message for e in errors}
    assert "invalid JSON" in messages[2]
    assert "order" in messages[3]
    assert "unknown cost" in messages[4]
    assert "duplicate id" in messages[9]
    assert str(errors[0]).startswith(f"{path}:2:")


def test_labeled_text_accepts_foreign_splits_and_extra_fields(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl("eval.jsonl", [make_record(split="real-dev", source="x")])
    (record,) = read_records([path], LabeledText)
    assert record.costs == ["economic", "time"]


def test_dataset_has_fixed_features_and_loads_with_load_dataset(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl("ok.jsonl", [make_record(), make_record(id="b", costs=["social"], churn=1)])
    built = to_dataset(read_records([path], CorpusRecord))
    assert built.features == FEATURES
    loaded = datasets.load_dataset("json", data_files=str(path), features=FEATURES, split="train")
    assert loaded.features == FEATURES
    assert loaded[1]["costs"] == ["social"] and loaded[1]["churn"] == 1


def test_cli_validate_exit_code_and_line_numbers(write_jsonl: WriteJsonl) -> None:
    good = write_jsonl("good.jsonl", [make_record()])
    bad = write_jsonl("bad.jsonl", [make_record(), make_record(id="z", lang="xx")])
    runner = CliRunner()
    ok = runner.invoke(app, ["data", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    failed = runner.invoke(app, ["data", "validate", str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}:2:" in failed.output and "lang" in failed.output


def test_cli_stats_prints_counts_per_language_and_split(tmp_path: Path, write_jsonl: WriteJsonl) -> None:
    rows = [
        make_record(id="1"),
        make_record(id="2", split="test", costs=[]),
        make_record(id="3", lang="ro", text="Comanda nu a ajuns.", costs=["time"]),
    ]
    write_jsonl("c.jsonl", rows)
    result = CliRunner().invoke(app, ["data", "stats", "--corpus-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 records" in result.output
    assert "100.0%" in result.output and "50.0%" in result.output
