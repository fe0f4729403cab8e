"""`POST /v1/classify` and `POST /v1/classify/batch`: classify, store and answer with labels and remedies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from serve.auth import INGEST_ROLES, Caller
from serve.classifier import Customer
from serve.deps import ResourcesDep, SessionDep, errors, require
from serve.schemas import BatchRequest, BatchResponse, ClassifyRequest, ManagerLang, TicketOut
from serve.service import check_length, classify_tickets, ticket_out
from serve.store import NewTicket

router = APIRouter(prefix="/v1", tags=["classify"])

Ingest = Annotated[Caller, Depends(require(INGEST_ROLES))]
ManagerLangQuery = Annotated[ManagerLang, Query(description="Language of the remedy titles (the manager's).")]


def _new_ticket(item: ClassifyRequest) -> NewTicket:
    return NewTicket(
        source="api",
        external_id=item.external_id,
        subject=item.subject,
        body=item.text,
        channel=item.channel,
        customer=Customer(item.lifetime_value, item.margin),
    )


@router.post(
    "/classify",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": TicketOut, "description": "Already stored under this external_id."},
        **errors(400, 401, 403, 413, 422),
    },
)
def classify(
    body: ClassifyRequest,
    response: Response,
    resources: ResourcesDep,
    session: SessionDep,
    _caller: Ingest,
    manager_lang: ManagerLangQuery = "en",
) -> TicketOut:
    """Classify one text (roles: ingest, admin): every label's probability, decision and confidence, the language,
    suggested remedies, the model version and the stored ticket's id. 201 when stored now, 200 for a known
    `external_id`."""
    check_length(body.text, resources.settings.max_text_chars)
    [(ticket, created)] = classify_tickets(resources, session, [_new_ticket(body)])
    if not created:
        response.status_code = status.HTTP_200_OK
    return ticket_out(resources, ticket, manager_lang)


@router.post("/classify/batch", responses=errors(400, 401, 403, 413, 422))
def classify_batch(
    body: BatchRequest,
    resources: ResourcesDep,
    session: SessionDep,
    _caller: Ingest,
    manager_lang: ManagerLangQuery = "en",
) -> BatchResponse:
    """Classify up to `max_batch` texts in one model call (roles: ingest, admin); results in request order."""
    limit = resources.settings.max_batch
    if len(body.items) > limit:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"batch of {len(body.items)} items; the limit is {limit}"
        )
    for item in body.items:
        check_length(item.text, resources.settings.max_text_chars)
    results = classify_tickets(resources, session, [_new_ticket(item) for item in body.items])
    return BatchResponse(items=[ticket_out(resources, ticket, manager_lang) for ticket, _ in results])
