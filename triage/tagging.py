"""`triage tag`: stream an inbox export (CSV, JSONL or Parquet), classify it in chunks, write tags and remedies.

Memory stays constant: rows are read lazily (csv.DictReader, line by line, Parquet record batches), classified
`chunk_size` at a time and written out before the next chunk is read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from model.labels import ALL_LABELS
from serve.classifier import Classifier, Customer, helpdesk_tags, needs_review

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


class TagInputError(ValueError):
    """The input file cannot be read as an inbox export."""


@dataclass(frozen=True)
class Row:
    """One text of the input and the id its result carries."""

    id: str
    text: str


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise TagInputError(f"{path}: unknown format {path.suffix!r}; use .csv, .jsonl or .parquet") from None


def _rows(records: Iterable[dict[str, Any]], text_column: str, id_column: str, where: str) -> Iterator[Row]:
    for number, record in enumerate(records, start=1):
        if text_column not in record:
            raise TagInputError(f"{where}, row {number}: no column {text_column!r} (found {sorted(record)})")
        text = record[text_column]
        identifier = record.get(id_column)
        yield Row(str(number) if identifier in (None, "") else str(identifier), "" if text is None else str(text))


def _jsonl(handle: TextIO, path: Path) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TagInputError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise TagInputError(f"{path}:{number}: expected a JSON object")
        yield record


def _parquet(path: Path, columns: list[str]) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    present = [column for column in columns if column in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=1024, columns=present):
        yield from batch.to_pylist()


def read_rows(path: Path, text_column: str = "text", id_column: str = "id") -> Iterator[Row]:
    """The rows of a CSV, JSONL or Parquet file, lazily."""
    kind = file_format(path)
    if kind == "parquet":
        yield from _rows(_parquet(path, [text_column, id_column]), text_column, id_column, str(path))
        return
    with path.open(encoding="utf-8", newline="") as handle:
        records = csv.DictReader(handle) if kind == "csv" else _jsonl(handle, path)
        yield from _rows(records, text_column, id_column, str(path))


def count_rows(path: Path) -> int | None:
    """Rows of a Parquet file from its metadata; None for text formats (that would take a pass of its own)."""
    if file_format(path) != "parquet":
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def tag_rows(
    classifier: Classifier, rows: Iterable[Row], chunk_size: int, manager_lang: str, tag_prefix: str
) -> Iterator[dict[str, Any]]:
    """A result per row (blank texts get an `error` instead of labels), classified `chunk_size` rows at a time."""
    for chunk in _chunks(rows, chunk_size):
        texts = [row for row in chunk if row.text.strip()]
        predictions = iter(classifier.predict([row.text for row in texts]))
        for row in chunk:
            if not row.text.strip():
                yield {"id": row.id, "error": "blank text"}
                continue
            prediction = next(predictions)
            plan = classifier.plan(prediction, manager_lang, Customer())
            decisions = {name: label.decision for name, label in prediction.labels.items()}
            review = needs_review(prediction)
            yield {
                "id": row.id,
                **prediction.to_json(),
                "tags": helpdesk_tags(tag_prefix, prediction.lang, decisions, plan, review),
                "needs_review": review,
                "remedies": plan.to_json(),
            }


CSV_COLUMNS = [
    "id",
    "lang",
    *(f"{name}_prob" for name in ALL_LABELS),
    *ALL_LABELS,
    "tags",
    "needs_review",
    "mode",
    "remedies",
    "top_remedy",
    "error",
]


def csv_row(result: dict[str, Any]) -> dict[str, Any]:
    """A flat CSV row: probabilities, 0/1 decisions, space-separated tags and remedy ids, the top remedy's title."""
    if "error" in result:
        return {"id": result["id"], "error": result["error"]}
    plan = result["remedies"]
    suggestions = plan["suggestions"]
    return {
        "id": result["id"],
        "lang": result["lang"],
        **{f"{name}_prob": label["prob"] for name, label in result["labels"].items()},
        **{name: int(label["decision"]) for name, label in result["labels"].items()},
        "tags": " ".join(result["tags"]),
        "needs_review": int(result["needs_review"]),
        "mode": plan["mode"],
        "remedies": " ".join(s["id"] for s in suggestions),
        "top_remedy": suggestions[0]["title"] if suggestions else "",
        "error": "",
    }


def write_results(results: Iterable[dict[str, Any]], output: Path) -> int:
    """Write results as CSV (`.csv`) or JSONL (anything else) as they come; return how many were written."""
    written = 0
    with output.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS) if output.suffix.lower() == ".csv" else None
        if writer is not None:
            writer.writeheader()
        for result in results:
            if writer is not None:
                writer.writerow(csv_row(result))
            else:
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            written += 1
    return written
