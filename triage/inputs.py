"""Reading texts to tag from stdin, a plain text file (one per line) or JSONL with `id` and `text`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class InputText:
    """A text to tag and the id its result carries."""

    id: str
    text: str


class InputError(ValueError):
    """A line of the input could not be read."""


def read_inputs(lines: Iterable[str]) -> Iterator[InputText]:
    """JSONL objects with `id` and `text` where a line starts with `{`; otherwise each non-empty line is a text."""
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                payload = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"line {number}: invalid JSON ({exc.msg})") from exc
            if not isinstance(payload, dict) or not isinstance(payload.get("text"), str) or not payload["text"].strip():
                raise InputError(f"line {number}: a JSON line needs a non-empty string field 'text'")
            yield InputText(str(payload.get("id", number)), payload["text"])
        else:
            yield InputText(str(number), line)
