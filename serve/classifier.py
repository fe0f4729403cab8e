"""The loaded model and playbook behind one lock: predictions, remedy plans and helpdesk tags."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from model.labels import COST_LABELS, LANGUAGES
from model.predictor import Prediction, Predictor
from remedies.engine import Plan, choose_mode, plan_remedies
from remedies.playbook import Playbook


@dataclass(frozen=True)
class Customer:
    """What the compensation budget needs to know about the customer; both optional."""

    lifetime_value: float | None = None
    margin: float | None = None


class Classifier:
    """One predictor for the whole process; `predict` blocks, so call it from a worker thread, never the event loop."""

    def __init__(self, predictor: Predictor, playbook: Playbook) -> None:
        self.predictor = predictor
        self.playbook = playbook
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self.predictor.version

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Tag texts; one call at a time, so concurrent requests don't fight over the CPU cores."""
        with self._lock:
            return self.predictor.predict(texts)

    def plan(self, prediction: Prediction, manager_lang: str, customer: Customer) -> Plan:
        """The remedy engine's plan, titles in `manager_lang`."""
        return plan_remedies(
            prediction,
            self.playbook,
            manager_lang=manager_lang,
            lifetime_value=customer.lifetime_value,
            margin=customer.margin,
        )


def needs_review(prediction: Prediction) -> bool:
    """Whether the remedy engine hands this prediction to a person (unknown language or low confidence)."""
    return choose_mode(prediction)[0] == "human_review"


def helpdesk_tags(prefix: str, lang: str, decisions: Mapping[str, bool], plan: Plan, review: bool) -> list[str]:
    """Tags for a helpdesk: decided costs and flags, language, review need and the top remedy."""
    tags = [f"{prefix}cost_{name}" for name in COST_LABELS if decisions[name]]
    tags += [f"{prefix}{flag}" for flag in ("abuse_risk", "churn") if decisions[flag]]
    if not decisions["is_complaint"]:
        tags.append(f"{prefix}not_complaint")
    tags.append(f"{prefix}lang_{lang if lang in LANGUAGES else 'other'}")
    if review:
        tags.append(f"{prefix}needs_review")
    if plan.suggestions:
        tags.append(f"{prefix}remedy_{plan.suggestions[0].id}")
    return tags
