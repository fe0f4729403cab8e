"""Classify-and-store and the ticket view the API returns; blocking code, run in worker threads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from serve.classifier import Customer, helpdesk_tags, needs_review
from serve.db import Ticket
from serve.privacy import mask_pii
from serve.resources import Resources
from serve.schemas import TicketOut
from serve.store import NewTicket, add_ticket, effective_prediction, final_labels, final_lang, find_ticket


def check_length(text: str, limit: int) -> None:
    """422 for a text over the configured limit."""
    if len(text) > limit:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"text is {len(text)} characters long; the limit is {limit}"
        )


def _for_storage(item: NewTicket, store_raw_text: bool) -> NewTicket:
    """The ticket as it is stored: subject and body with personal data masked, unless raw text is to be kept."""
    if store_raw_text:
        return item
    subject = None if item.subject is None else mask_pii(item.subject)
    return replace(item, subject=subject, body=mask_pii(item.body))


def classify_tickets(resources: Resources, session: Session, items: Sequence[NewTicket]) -> list[tuple[Ticket, bool]]:
    """Store and return each item's ticket and whether it is new; known (source, external_id) pairs are not re-run.

    The model reads each text as received; what is stored has personal data masked (`_for_storage`).
    """
    found: dict[int, tuple[Ticket, bool]] = {}
    pending: list[int] = []
    for index, item in enumerate(items):
        existing = find_ticket(session, item.source, item.external_id)
        if existing is None:
            pending.append(index)
        else:
            found[index] = (existing, False)
    classifier = resources.classifier
    predictions = classifier.predict([items[index].text for index in pending])
    for index, prediction in zip(pending, predictions, strict=True):
        stored = _for_storage(items[index], resources.settings.store_raw_text)
        ticket, created = add_ticket(session, stored, prediction, classifier.version, needs_review(prediction))
        found[index] = (ticket, created)
        if created:
            resources.metrics.count_predictions([prediction])
    return [found[index] for index in range(len(items))]


def ticket_out(resources: Resources, ticket: Ticket, manager_lang: str) -> TicketOut:
    """A stored ticket with its remedy plan (titles in `manager_lang`) and helpdesk tags."""
    plan = resources.classifier.plan(
        effective_prediction(ticket), manager_lang, Customer(ticket.lifetime_value, ticket.margin)
    )
    decisions = final_labels(ticket)
    lang = final_lang(ticket)
    return TicketOut.model_validate(
        {
            "id": ticket.id,
            "source": ticket.source,
            "external_id": ticket.external_id,
            "subject": ticket.subject,
            "text": ticket.text,
            "channel": ticket.channel,
            "created_at": ticket.created_at,
            "model_version": ticket.model_version,
            "lang": lang,
            "lang_prob": ticket.lang_prob,
            "labels": {
                row.label: {"prob": row.prob, "decision": row.decision, "confidence": row.confidence}
                for row in ticket.labels
            },
            "final_labels": decisions,
            "tags": helpdesk_tags(resources.settings.tag_prefix, lang, decisions, plan, ticket.needs_review),
            "needs_review": ticket.needs_review,
            "remedies": plan.to_json(),
            "reviews": [
                {
                    "verdict": fb.verdict,
                    "labels": fb.labels,
                    "lang": fb.lang,
                    "reviewer": fb.reviewer,
                    "created_at": fb.created_at,
                }
                for fb in ticket.feedback
            ],
        }
    )
