"""Benchmark inputs: a fixed, shuffled mix of short chats and long emails from the corpus test files."""

from __future__ import annotations

import json
import random
from pathlib import Path


def sample_texts(corpus_dir: Path, chats: int, emails: int, seed: int = 0) -> list[str]:
    """`chats` chat texts and `emails` email texts of the test split, drawn and shuffled with `seed`."""
    by_channel: dict[str, list[str]] = {"chat": [], "email": []}
    for path in sorted(corpus_dir.glob("*/test.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("channel") in by_channel:
                    by_channel[record["channel"]].append(record["text"])
    rng = random.Random(seed)
    wanted = {"chat": chats, "email": emails}
    for channel, count in wanted.items():
        if len(by_channel[channel]) < count:
            raise ValueError(f"{corpus_dir} has {len(by_channel[channel])} test {channel} texts, {count} wanted")
    texts = [text for channel, count in wanted.items() for text in rng.sample(by_channel[channel], count)]
    rng.shuffle(texts)
    return texts
