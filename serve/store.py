"""Reading and writing tickets, their labels and reviewers' feedback."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from model.calibration import Confidence
from model.labels import ALL_LABELS, COST_LABELS
from model.predictor import LabelPrediction, Prediction
from serve.auth import Caller
from serve.classifier import Customer
from serve.db import Feedback, Ticket, TicketLabel, utcnow

CONFIDENCES: dict[str, Confidence] = {"high": "high", "medium": "medium", "low": "low"}


@dataclass(frozen=True)
class NewTicket:
    """A text to classify and where it came from."""

    source: str
    external_id: str | None
    subject: str | None
    body: str
    channel: str = "email"
    customer: Customer = field(default_factory=Customer)

    @property
    def text(self) -> str:
        """What the model reads: the subject line, then the body."""
        return f"{self.subject.strip()}\n{self.body}" if self.subject and self.subject.strip() else self.body


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets a listing returns; None means any."""

    lang: str | None = None
    label: str | None = None
    abuse: bool | None = None
    needs_review: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_ticket(session: Session, source: str, external_id: str | None) -> Ticket | None:
    """The stored ticket of a helpdesk or client id, if any."""
    if external_id is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id))


def add_ticket(
    session: Session, new: NewTicket, prediction: Prediction, model_version: str, review: bool
) -> tuple[Ticket, bool]:
    """Store a classified ticket; if the same (source, external_id) was stored meanwhile, return that one instead."""
    ticket = Ticket(
        source=new.source,
        external_id=new.external_id,
        subject=new.subject,
        text=new.text,
        channel=new.channel,
        lang=prediction.lang,
        lang_prob=prediction.lang_prob,
        model_version=model_version,
        needs_review=review,
        lifetime_value=new.customer.lifetime_value,
        margin=new.customer.margin,
        labels=[
            TicketLabel(
                label=name,
                position=position,
                prob=prediction.labels[name].prob,
                decision=prediction.labels[name].decision,
                confidence=prediction.labels[name].confidence,
                final=prediction.labels[name].decision,
            )
            for position, name in enumerate(ALL_LABELS)
        ],
    )
    session.add(ticket)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = find_ticket(session, new.source, new.external_id)
        if existing is None:
            raise
        return existing, False
    return ticket, True


def final_lang(ticket: Ticket) -> str:
    return ticket.reviewed_lang or ticket.lang


def final_labels(ticket: Ticket) -> dict[str, bool]:
    return {row.label: row.final for row in ticket.labels}


def effective_prediction(ticket: Ticket) -> Prediction:
    """The model's prediction, with a reviewer's decisions (then sure: high confidence) once reviewed."""
    reviewed = ticket.reviewed_at is not None
    labels = {
        row.label: LabelPrediction(row.prob, row.final, "high" if reviewed else CONFIDENCES[row.confidence])
        for row in ticket.labels
    }
    return Prediction(final_lang(ticket), ticket.lang_prob, labels)


def add_feedback(
    session: Session, ticket: Ticket, caller: Caller, verdict: str, changes: dict[str, bool], lang: str | None
) -> Feedback:
    """Record a reviewer's verdict and make its labels (and language) the ticket's final ones."""
    now = utcnow()
    for row in ticket.labels:
        row.final = changes.get(row.label, row.final)
    if lang is not None:
        ticket.reviewed_lang = lang
    ticket.reviewed_at = now
    ticket.needs_review = False
    feedback = Feedback(
        ticket=ticket,
        key_id=caller.key_id,
        reviewer=caller.name,
        verdict=verdict,
        labels=final_labels(ticket),
        lang=final_lang(ticket),
        created_at=now,
    )
    session.add(feedback)
    session.commit()
    return feedback


def _conditions(filters: TicketFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.lang is not None:
        conditions.append(func.coalesce(Ticket.reviewed_lang, Ticket.lang) == filters.lang)
    if filters.label is not None:
        conditions.append(_has_label(filters.label, True))
    if filters.abuse is not None:
        conditions.append(_has_label("abuse_risk", filters.abuse))
    if filters.needs_review is not None:
        conditions.append(Ticket.needs_review.is_(filters.needs_review))
    if filters.since is not None:
        conditions.append(Ticket.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(Ticket.created_at < filters.until)
    return conditions


def _has_label(label: str, value: bool) -> Exists:
    return (
        select(TicketLabel.ticket_id)
        .where(TicketLabel.ticket_id == Ticket.id, TicketLabel.label == label, TicketLabel.final.is_(value))
        .exists()
    )


def list_tickets(session: Session, filters: TicketFilter, limit: int, offset: int) -> tuple[list[Ticket], int]:
    """One page of matching tickets, newest first, and how many match in all."""
    conditions = _conditions(filters)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
    query = select(Ticket).where(*conditions).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset))), int(total or 0)


def reviewed_tickets(session: Session, since: datetime | None = None) -> list[Ticket]:
    """Tickets a reviewer has confirmed or corrected, oldest review first."""
    query = select(Ticket).where(Ticket.reviewed_at.is_not(None))
    if since is not None:
        query = query.where(Ticket.reviewed_at >= since)
    return list(session.scalars(query.order_by(Ticket.reviewed_at, Ticket.id)))


STATS_LABELS: tuple[str, ...] = (*COST_LABELS, "abuse_risk")


def daily_stats(session: Session, days: int, today: datetime | None = None) -> list[dict[str, object]]:
    """Per UTC day of the last `days`: tickets, and how many carry each cost and abuse risk (final labels)."""
    end = (today or utcnow()).date()
    first = end - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    tickets = Counter(
        created.date() for created in session.scalars(select(Ticket.created_at).where(Ticket.created_at >= start))
    )
    labelled = session.execute(
        select(Ticket.created_at, TicketLabel.label)
        .join(TicketLabel, TicketLabel.ticket_id == Ticket.id)
        .where(Ticket.created_at >= start, TicketLabel.final.is_(True), TicketLabel.label.in_(STATS_LABELS))
    )
    counts = Counter((created.date(), label) for created, label in labelled)
    out: list[dict[str, object]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        out.append(
            {
                "date": day.isoformat(),
                "tickets": tickets[day],
                "labels": {label: counts[(day, label)] for label in STATS_LABELS},
            }
        )
    return out
