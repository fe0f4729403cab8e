"""Reviewed tickets as corpus-schema records: the retraining loop's way back into `triage train --data`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from model.labels import COST_LABELS, LANGUAGES
from serve.db import Ticket
from serve.store import final_labels, final_lang
from training.corpus import CorpusRecord


@dataclass(frozen=True)
class Export:
    """The records written, and the tickets left out with the reason."""

    records: list[CorpusRecord]
    skipped: list[str]


def feedback_records(tickets: Iterable[Ticket], split: str, domain: str) -> Export:
    """One validated `CorpusRecord` per reviewed ticket, with the reviewer's final labels and language.

    Tickets whose final language is not ru/ro/bg are skipped: the corpus holds only those languages.
    """
    records: list[CorpusRecord] = []
    skipped: list[str] = []
    for ticket in tickets:
        lang = final_lang(ticket)
        if lang not in LANGUAGES:
            skipped.append(f"ticket {ticket.id}: language {lang!r} is not one of {', '.join(LANGUAGES)}")
            continue
        labels = final_labels(ticket)
        records.append(
            CorpusRecord.model_validate(
                {
                    "id": f"feedback-{ticket.id}",
                    "text": ticket.text,
                    "lang": lang,
                    "costs": [name for name in COST_LABELS if labels[name]],
                    "abuse_risk": int(labels["abuse_risk"]),
                    "churn": int(labels["churn"]),
                    "is_complaint": int(labels["is_complaint"]),
                    "domain": domain,
                    "channel": ticket.channel,
                    "split": split,
                    "augmented": False,
                }
            )
        )
    return Export(records, skipped)
