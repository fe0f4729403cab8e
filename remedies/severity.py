"""How badly a failure hurt the customer, from the costs the model decided."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

Severity = Literal["none", "low", "medium", "high"]

SEVERITY_LEVELS: tuple[Severity, ...] = ("none", "low", "medium", "high")
"""Severity levels, mildest first."""

HARD_COSTS: tuple[str, ...] = ("economic", "social")
"""Costs that reach beyond the customer's own time and feelings: their money, or their standing with others."""


def severity_of(costs: Collection[str]) -> Severity:
    """Severity of a failure from its decided costs.

    score = number of decided costs, plus 1 if economic or social is among them; severity is
    none (score 0), low (1), medium (2) or high (3 and more). So: time or emotional alone is low;
    economic or social alone, or time + emotional, is medium; economic + any other cost, social + any
    other cost, or any three costs is high.
    """
    score = len(costs) + (1 if any(cost in HARD_COSTS for cost in costs) else 0)
    return SEVERITY_LEVELS[min(score, len(SEVERITY_LEVELS) - 1)]


def severity_rank(level: Severity) -> int:
    """Position of a level in `SEVERITY_LEVELS` (none = 0)."""
    return SEVERITY_LEVELS.index(level)
