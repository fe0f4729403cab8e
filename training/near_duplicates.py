"""Near-duplicate detection between corpus splits (character n-gram TF-IDF cosine similarity)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer

from model.text import normalize_text
from training.corpus import CorpusRecord

NEAR_DUPLICATE_SIMILARITY = 0.8


@dataclass(frozen=True)
class NearDuplicate:
    """Two records of different splits whose texts are almost the same."""

    first: str
    second: str
    similarity: float


def near_duplicates(
    records: Sequence[CorpusRecord], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[NearDuplicate]:
    """Pairs of records from different splits whose character 3-5-gram TF-IDF cosine is at least `threshold`."""
    if len(records) < 2:
        return []
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(
        [normalize_text(r.text).lower() for r in records]
    )
    similarity = (vectors @ vectors.T).tocoo()
    found = []
    for i, j, value in zip(similarity.row, similarity.col, similarity.data, strict=True):
        if i < j and value >= threshold and records[i].split != records[j].split:
            found.append(NearDuplicate(records[i].id, records[j].id, float(value)))
    return sorted(found, key=lambda d: -d.similarity)
