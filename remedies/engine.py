"""The remedy engine: turns one prediction into a ranked, localized plan of remedies from the playbook."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from model.labels import ALL_LABELS, COST_LABELS, LANGUAGES
from remedies.budget import Budget, compensation_budget
from remedies.playbook import CONFIDENCE_LEVELS, TEXT_LANGUAGES, Conditions, Mode, Playbook, Remedy
from remedies.severity import Severity, severity_of, severity_rank

if TYPE_CHECKING:
    from model.predictor import LabelPrediction, Prediction

FALLBACK_LANGUAGE = "en"
"""Wording language for customers who write in none of `model.labels.LANGUAGES`."""

GATE_LABELS: tuple[str, ...] = ("is_complaint", "abuse_risk")
"""Labels that decide whether anything is offered at all: a low-confidence answer either way needs a person."""


@dataclass(frozen=True)
class Why:
    """Why a remedy was chosen: the labels it relied on (with probabilities) and each condition that held."""

    tags: dict[str, float]
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Suggestion:
    """One ranked remedy, ready to show: title in the manager's language, wording in the customer's."""

    id: str
    title: str
    wording: str
    rationale: str
    money: bool
    priority: int
    why: Why


@dataclass(frozen=True)
class Plan:
    """What to do about one text."""

    mode: Mode
    mode_reason: str
    severity: Severity
    costs: tuple[str, ...]
    customer_lang: str
    manager_lang: str
    budget: Budget
    suggestions: tuple[Suggestion, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Facts:
    """What the conditions of a remedy are checked against."""

    mode: Mode
    labels: Mapping[str, LabelPrediction]
    costs: tuple[str, ...]
    severity: Severity
    lifetime_value: float | None


def choose_mode(prediction: Prediction) -> tuple[Mode, str]:
    """The plan's mode and why, checked in this order.

    human_review: the language is not ru/ro/bg, a label decided true is low-confidence, or is_complaint or
    abuse_risk is low-confidence either way; abuse: abuse risk decided (complaint or not: a claim made in bad
    faith goes through the formal process); no_action: not a complaint; win_back: churn decided; standard: any
    other complaint.
    """
    labels = prediction.labels
    if prediction.lang not in LANGUAGES:
        return "human_review", f"language is {prediction.lang}"
    unsure = [
        name
        for name in ALL_LABELS
        if labels[name].confidence == "low" and (labels[name].decision or name in GATE_LABELS)
    ]
    if unsure:
        return "human_review", "low confidence: " + ", ".join(f"{name} ({labels[name].prob:.2f})" for name in unsure)
    if labels["abuse_risk"].decision:
        return "abuse", f"abuse_risk decided ({labels['abuse_risk'].prob:.2f})"
    if not labels["is_complaint"].decision:
        return "no_action", f"is_complaint not decided ({labels['is_complaint'].prob:.2f})"
    if labels["churn"].decision:
        return "win_back", f"churn decided ({labels['churn'].prob:.2f})"
    return "standard", "a complaint without abuse risk or churn"


def _checks(when: Conditions, facts: _Facts) -> Iterator[tuple[bool, tuple[str, ...], str]]:
    """Each condition a remedy sets: whether it holds, the labels it relies on, and how it reads."""
    yield facts.mode in when.modes, ("is_complaint",), f"mode is {facts.mode}"
    if when.costs_any:
        hit = tuple(cost for cost in when.costs_any if cost in facts.costs)
        yield bool(hit), hit, f"any of costs ({', '.join(when.costs_any)}) decided: {', '.join(hit)}"
    if when.costs_all:
        held = all(cost in facts.costs for cost in when.costs_all)
        yield held, tuple(when.costs_all), f"all of costs ({', '.join(when.costs_all)}) decided"
    for flag, wanted in (("abuse_risk", when.abuse_risk), ("churn", when.churn)):
        if wanted is not None:
            state = "decided" if wanted else "not decided"
            yield facts.labels[flag].decision == wanted, (flag,), f"{flag} {state}"
    if when.min_severity != "none":
        held = severity_rank(facts.severity) >= severity_rank(when.min_severity)
        yield held, facts.costs, f"severity {facts.severity} ≥ {when.min_severity}"
    if when.min_customer_value is not None:
        value = facts.lifetime_value
        held = value is not None and value >= when.min_customer_value
        yield held, (), f"lifetime value ≥ {when.min_customer_value:g}"


def _match(remedy: Remedy, facts: _Facts) -> Why | None:
    """Why the remedy applies, or None when one of its conditions fails."""
    checks = list(_checks(remedy.when, facts))
    if not all(held for held, _, _ in checks):
        return None
    relied = tuple(dict.fromkeys(label for _, labels, _ in checks for label in labels))
    conditions = [text for _, _, text in checks]
    minimum = CONFIDENCE_LEVELS.index(remedy.when.min_confidence)
    if minimum:
        if any(CONFIDENCE_LEVELS.index(facts.labels[name].confidence) < minimum for name in relied):
            return None
        conditions.append(f"confidence of {', '.join(relied)} ≥ {remedy.when.min_confidence}")
    return Why({name: facts.labels[name].prob for name in relied}, tuple(conditions))


def plan_remedies(
    prediction: Prediction,
    playbook: Playbook,
    *,
    customer_lang: str | None = None,
    manager_lang: str = "en",
    lifetime_value: float | None = None,
    margin: float | None = None,
) -> Plan:
    """A plan for one prediction: mode, severity, budget and the matching remedies ranked by priority.

    Wording is in `customer_lang` (default: the predicted language), or English when that is not ru/ro/bg/en;
    titles are in `manager_lang` (ru/ro/bg/en). `lifetime_value` and `margin` give the compensation ceiling
    and unlock remedies with a `min_customer_value`.
    """
    if manager_lang not in TEXT_LANGUAGES:
        raise ValueError(f"manager language must be one of {', '.join(TEXT_LANGUAGES)}, got {manager_lang!r}")
    wording_lang = customer_lang or prediction.lang
    if wording_lang not in TEXT_LANGUAGES:
        wording_lang = FALLBACK_LANGUAGE
    mode, reason = choose_mode(prediction)
    costs = tuple(name for name in COST_LABELS if prediction.labels[name].decision)
    facts = _Facts(mode, prediction.labels, costs, severity_of(costs), lifetime_value)
    matched = [(remedy, why) for remedy in playbook.remedies if (why := _match(remedy, facts)) is not None]
    ranked = sorted(matched, key=lambda pair: -pair[0].priority)
    suggestions = tuple(
        Suggestion(
            id=remedy.id,
            title=remedy.title.text(manager_lang),
            wording=remedy.wording.text(wording_lang),
            rationale=remedy.rationale,
            money=remedy.money,
            priority=remedy.priority,
            why=why,
        )
        for remedy, why in ranked
    )
    budget = compensation_budget(mode, prediction.labels["churn"].prob, lifetime_value, margin)
    return Plan(mode, reason, facts.severity, costs, wording_lang, manager_lang, budget, suggestions)
