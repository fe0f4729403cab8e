"""Per-language, per-split counts and label prevalence of a corpus."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from model.labels import COST_LABELS
from training.corpus import CorpusRecord

STAT_COLUMNS: tuple[str, ...] = (*COST_LABELS, "abuse_risk", "churn", "is_complaint", "augmented")


@dataclass
class GroupStats:
    """Counts of one (language, split) group."""

    count: int = 0
    positives: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAT_COLUMNS, 0))

    def add(self, record: CorpusRecord) -> None:
        self.count += 1
        for cost in record.costs:
            self.positives[cost] += 1
        self.positives["abuse_risk"] += record.abuse_risk
        self.positives["churn"] += record.churn
        self.positives["is_complaint"] += record.is_complaint
        self.positives["augmented"] += int(record.augmented)

    def prevalence(self, column: str) -> float:
        return self.positives[column] / self.count if self.count else 0.0


def corpus_stats(records: Iterable[CorpusRecord]) -> dict[tuple[str, str], GroupStats]:
    """Stats per (lang, split), plus (lang, "all") totals, keyed in sorted order."""
    groups: dict[tuple[str, str], GroupStats] = defaultdict(GroupStats)
    for record in records:
        groups[(record.lang, record.split)].add(record)
        groups[(record.lang, "all")].add(record)
    return dict(sorted(groups.items()))
