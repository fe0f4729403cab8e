"""The loaded model and playbook behind one lock: predictions, remedy plans and helpdesk tags."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from model.batcher import MicroBatcher
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
    """One predictor for the whole process; `predict` blocks, so call it from a worker thread, never the event loop.

    While the service runs, `start_batching` routes every `predict` call through a micro-batcher: texts from
    concurrent requests that arrive within a few milliseconds run as one model call in the batcher's own thread.
    """

    def __init__(self, predictor: Predictor, playbook: Playbook) -> None:
        self.predictor = predictor
        self.playbook = playbook
        self._lock = threading.Lock()
        self._batcher: MicroBatcher[str, Prediction] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def version(self) -> str:
        return self.predictor.version

    def start_batching(self, max_batch: int, max_wait_ms: float) -> None:
        """Batch concurrent `predict` calls from now on; call from a coroutine on the service's event loop."""
        self._loop = asyncio.get_running_loop()
        self._batcher = MicroBatcher(self._predict_now, max_batch=max_batch, max_wait=max_wait_ms / 1000)

    async def stop_batching(self) -> None:
        """Finish the queued texts and go back to direct calls."""
        if self._batcher is not None:
            batcher, self._batcher = self._batcher, None
            await batcher.aclose()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """Tag texts: through the micro-batcher when it runs, else directly, one call at a time."""
        batcher, loop = self._batcher, self._loop
        if batcher is None or loop is None:
            return self._predict_now(texts)
        return asyncio.run_coroutine_threadsafe(batcher.submit_many(list(texts)), loop).result()

    def _predict_now(self, texts: Sequence[str]) -> list[Prediction]:
        with self._lock:  # one model call at a time, so concurrent callers don't fight over the CPU cores
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
