"""Stored tickets: listing with filters and pagination, one ticket, reviewers' feedback, daily statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from model.labels import ALL_LABELS
from serve.auth import REVIEW_ROLES, Caller
from serve.db import Ticket
from serve.deps import MAX_ROW_ID, ResourcesDep, RowId, SessionDep, errors, require
from serve.schemas import DayStats, FeedbackRequest, IsoDateTime, ManagerLang, TicketOut, TicketPage
from serve.service import ticket_out
from serve.store import TicketFilter, add_feedback, daily_stats, list_tickets

router = APIRouter(prefix="/v1", tags=["tickets"])

Reviewer = Annotated[Caller, Depends(require(REVIEW_ROLES))]
ManagerLangQuery = Annotated[ManagerLang, Query(description="Language of the remedy titles (the manager's).")]


def get_ticket(session: SessionDep, ticket_id: RowId) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket with id {ticket_id}")
    return ticket


@router.get("/tickets", responses=errors(401, 403, 422))
def tickets(
    resources: ResourcesDep,
    session: SessionDep,
    _caller: Reviewer,
    lang: Annotated[str | None, Query(pattern="^(ru|ro|bg|other)$", description="Final language.")] = None,
    label: Annotated[str | None, Query(description=f"A label decided true: one of {', '.join(ALL_LABELS)}.")] = None,
    abuse: Annotated[bool | None, Query(description="Abuse risk decided (true) or not (false).")] = None,
    needs_review: Annotated[bool | None, Query(description="Waiting for a reviewer.")] = None,
    since: Annotated[IsoDateTime | None, Query(description="Created at or after (ISO 8601).")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Created before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, description="Page size, at most `page_size_max` (200).")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Tickets to skip.")] = 0,
    manager_lang: ManagerLangQuery = "en",
) -> TicketPage:
    """Stored tickets, newest first, filtered (roles: reviewer, manager, admin)."""
    if label is not None and label not in ALL_LABELS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown label {label!r}; one of {ALL_LABELS}")
    if limit > resources.settings.page_size_max:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"limit {limit} is over {resources.settings.page_size_max}"
        )
    filters = TicketFilter(lang, label, abuse, needs_review, since, until)
    found, total = list_tickets(session, filters, limit, offset)
    next_offset = offset + limit if offset + limit < total else None
    items = [ticket_out(resources, ticket, manager_lang) for ticket in found]
    return TicketPage(items=items, total=total, limit=limit, offset=offset, next_offset=next_offset)


@router.get("/tickets/{ticket_id}", responses=errors(401, 403, 404, 422))
def ticket(
    _caller: Reviewer,
    resources: ResourcesDep,
    ticket: Annotated[Ticket, Depends(get_ticket)],
    manager_lang: ManagerLangQuery = "en",
) -> TicketOut:
    """One stored ticket with its labels, remedies and reviews (roles: reviewer, manager, admin)."""
    return ticket_out(resources, ticket, manager_lang)


@router.post(
    "/tickets/{ticket_id}/feedback", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 404, 413, 422)
)
def feedback(
    caller: Reviewer,
    body: FeedbackRequest,
    resources: ResourcesDep,
    session: SessionDep,
    ticket: Annotated[Ticket, Depends(get_ticket)],
    manager_lang: ManagerLangQuery = "en",
) -> TicketOut:
    """Confirm the ticket's labels, or correct some labels and/or the language (roles: reviewer, manager, admin).

    Stored with the key's name and the time; the corrected labels become the ticket's final labels, which
    `triage export-feedback` writes as corpus records for retraining."""
    add_feedback(session, ticket, caller, body.verdict, body.labels, body.lang)
    return ticket_out(resources, ticket, manager_lang)


@router.get("/stats/daily", responses=errors(401, 403, 422))
def stats(
    session: SessionDep,
    _caller: Reviewer,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back, today included.")] = 30,
) -> list[DayStats]:
    """Tickets per UTC day and how many carry each cost and abuse risk (roles: reviewer, manager, admin)."""
    return [DayStats.model_validate(day) for day in daily_stats(session, days)]
