"""Request and response bodies of the `/v1` API, with the examples the OpenAPI schema shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from model.labels import ALL_LABELS
from serve.auth import Role
from serve.text_rules import EXTERNAL_ID_MAX_CHARS, storage_problem

Channel = Literal["email", "chat", "review", "social post", "call-centre note"]
"""The corpus channels (`model.labels.CHANNELS`)."""

ManagerLang = Literal["ru", "ro", "bg", "en"]
CorpusLang = Literal["ru", "ro", "bg"]


def _utc_from_iso_8601(value: object) -> object:
    """ISO 8601 text as a UTC date-time (no zone: UTC). Pydantic alone would also read a bare number as a Unix
    time, and a date near year 1 or 9999 may not fit in UTC."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"expected an ISO 8601 date-time such as 2026-11-23T10:00:00Z, got {value!r}") from exc


IsoDateTime = Annotated[datetime, BeforeValidator(_utc_from_iso_8601)]
"""A date-time given as ISO 8601 text (a query parameter), in UTC."""


def _check_storable(value: str) -> str:
    """`value`, or a ValueError saying why it cannot be stored (a NUL character, a lone surrogate)."""
    problem = storage_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


STORABLE = AfterValidator(_check_storable)
"""Marks a string field as text that every supported database must be able to store. It goes after any length
limits inside the field's `Annotated`, so that those keep their own messages."""


RU_EXAMPLE = "Заказ оплатил три недели назад, до сих пор не доставили. Деньги списали, на звонки никто не отвечает."


class ClassifyRequest(BaseModel):
    """One complaint to classify and store."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": RU_EXAMPLE,
                    "subject": "Где мой заказ?",
                    "external_id": "crm-48213",
                    "channel": "email",
                    "lifetime_value": 60000,
                    "margin": 0.25,
                }
            ]
        },
    )

    text: Annotated[str, STORABLE] = Field(
        min_length=1,
        description="The complaint, at most `max_text_chars` characters (setting, 10,000 by default); not blank.",
    )
    subject: Annotated[str, Field(max_length=500), STORABLE] | None = Field(
        default=None, description="Subject line, classified with the text."
    )
    external_id: Annotated[str, Field(min_length=1, max_length=EXTERNAL_ID_MAX_CHARS), STORABLE] | None = Field(
        default=None,
        description="Your id of the text: a second request with the same id returns the stored result.",
    )
    channel: Channel = Field(default="email", description="Where the text came from.")
    lifetime_value: float | None = Field(
        default=None, ge=0, strict=True, description="Customer's lifetime value (budget): a JSON number."
    )
    margin: float | None = Field(
        default=None, ge=0, le=1, strict=True, description="Profit margin as a fraction (budget): a JSON number."
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is blank")
        return text


class BatchRequest(BaseModel):
    """Several complaints at once, at most `max_batch` (setting, 64 by default)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"text": RU_EXAMPLE, "external_id": "crm-1"},
                        {
                            "text": "Comanda a ajuns cu o săptămână întârziere și cutia era ruptă.",
                            "external_id": "crm-2",
                        },
                        {
                            "text": "Поръчката не пристигна, а парите са изтеглени от картата ми.",
                            "external_id": "crm-3",
                        },
                    ]
                }
            ]
        },
    )

    items: list[ClassifyRequest] = Field(min_length=1, description="The texts, classified in one model call.")


class LabelOut(BaseModel):
    """The model's output for one label."""

    prob: float = Field(description="Calibrated probability that the label applies.", examples=[0.91])
    decision: bool = Field(description="Whether the probability passed the label's tuned threshold.")
    confidence: Literal["high", "medium", "low"] = Field(description="How sure the decision is.")


class WhyOut(BaseModel):
    tags: dict[str, float] = Field(description="Labels the remedy relied on, with their probabilities.")
    conditions: list[str] = Field(description="Each playbook condition that held.")


class SuggestionOut(BaseModel):
    """One ranked remedy: title in the manager's language, wording in the customer's."""

    id: str = Field(examples=["apology"])
    title: str
    wording: str
    rationale: str
    money: bool
    priority: int
    why: WhyOut


class BudgetOut(BaseModel):
    """The compensation ceiling (lifetime value × margin × churn probability) and whether it is automatic."""

    ceiling: float | None
    automatic: bool
    arithmetic: str | None
    note: str


class PlanOut(BaseModel):
    """The remedy engine's plan for a ticket."""

    mode: str = Field(examples=["standard"])
    mode_reason: str
    severity: str
    costs: list[str]
    customer_lang: str
    manager_lang: str
    budget: BudgetOut
    suggestions: list[SuggestionOut]


class ReviewOut(BaseModel):
    """One reviewer's verdict."""

    verdict: Literal["confirm", "correct"]
    labels: dict[str, bool]
    lang: str
    reviewer: str
    created_at: datetime


class TicketOut(BaseModel):
    """A stored, classified ticket."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "source": "api",
                    "external_id": "crm-48213",
                    "subject": "Где мой заказ?",
                    "text": RU_EXAMPLE,
                    "channel": "email",
                    "created_at": "2026-11-23T10:15:00Z",
                    "model_version": "20261120-1a2b3c4d",
                    "lang": "ru",
                    "lang_prob": 0.99,
                    "labels": {
                        "economic": {"prob": 0.93, "decision": True, "confidence": "high"},
                        "time": {"prob": 0.88, "decision": True, "confidence": "high"},
                        "social": {"prob": 0.04, "decision": False, "confidence": "high"},
                        "emotional": {"prob": 0.41, "decision": False, "confidence": "low"},
                        "abuse_risk": {"prob": 0.02, "decision": False, "confidence": "high"},
                        "churn": {"prob": 0.35, "decision": False, "confidence": "medium"},
                        "is_complaint": {"prob": 0.99, "decision": True, "confidence": "high"},
                    },
                    "final_labels": {
                        "economic": True,
                        "time": True,
                        "social": False,
                        "emotional": False,
                        "abuse_risk": False,
                        "churn": False,
                        "is_complaint": True,
                    },
                    "tags": ["triage_cost_economic", "triage_cost_time", "triage_lang_ru", "triage_remedy_refund"],
                    "needs_review": False,
                    "remedies": {
                        "mode": "standard",
                        "mode_reason": "a complaint without abuse risk or churn",
                        "severity": "high",
                        "costs": ["economic", "time"],
                        "customer_lang": "ru",
                        "manager_lang": "en",
                        "budget": {
                            "ceiling": 5250.0,
                            "automatic": True,
                            "arithmetic": "60000 × 0.25 × 0.35 = 5250",
                            "note": "ceiling = lifetime value × margin × churn probability",
                        },
                        "suggestions": [
                            {
                                "id": "refund",
                                "title": "Refund the money",
                                "wording": "Мы вернём вам деньги за заказ в течение трёх дней.",
                                "rationale": "The customer lost money.",
                                "money": True,
                                "priority": 90,
                                "why": {"tags": {"economic": 0.93}, "conditions": ["mode standard"]},
                            }
                        ],
                    },
                    "reviews": [],
                }
            ]
        }
    )

    id: int = Field(description="Id of the stored ticket.")
    source: Literal["api", "zendesk", "freshdesk", "zammad"]
    external_id: str | None
    subject: str | None
    text: str
    channel: str
    created_at: datetime
    model_version: str
    lang: str = Field(description="Language: ru, ro, bg, or other (a reviewer's correction once reviewed).")
    lang_prob: float
    labels: dict[str, LabelOut] = Field(description="The model's output for every label.")
    final_labels: dict[str, bool] = Field(description="The model's decisions, or the reviewer's once reviewed.")
    tags: list[str] = Field(description="Tags for a helpdesk, from the final labels and the top remedy.")
    needs_review: bool = Field(description="The model is unsure and no reviewer has looked yet.")
    remedies: PlanOut
    reviews: list[ReviewOut]


class BatchResponse(BaseModel):
    items: list[TicketOut] = Field(description="One result per request item, in order.")


class TicketPage(BaseModel):
    """One page of a ticket listing, newest first."""

    items: list[TicketOut]
    total: int = Field(description="Tickets matching the filters, over all pages.")
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page, or null on the last page.")


class FeedbackRequest(BaseModel):
    """A reviewer confirms the ticket's labels as they are, or corrects some of them (and the language)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"verdict": "confirm"},
                {"verdict": "correct", "labels": {"emotional": True, "churn": False}, "lang": "ru"},
            ]
        },
    )

    verdict: Literal["confirm", "correct"]
    labels: dict[str, StrictBool] = Field(
        default_factory=dict, description="Labels to change (correct only): JSON true or false."
    )
    lang: CorpusLang | None = Field(default=None, description="The right language, if the model got it wrong.")

    @field_validator("labels")
    @classmethod
    def _known_labels(cls, labels: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(labels) - set(ALL_LABELS))
        if unknown:
            raise ValueError(f"unknown labels {unknown}; allowed: {list(ALL_LABELS)}")
        return labels

    @model_validator(mode="after")
    def _verdict_matches(self) -> FeedbackRequest:
        if self.verdict == "confirm" and (self.labels or self.lang):
            raise ValueError("a confirmation changes nothing: send verdict 'correct' to change labels or language")
        if self.verdict == "correct" and not (self.labels or self.lang):
            raise ValueError("a correction needs `labels` or `lang`")
        return self


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "zendesk-prod", "role": "ingest"}]}
    )

    name: Annotated[str, STORABLE] = Field(min_length=1, max_length=100)
    role: Role

    @field_validator("name")
    @classmethod
    def _not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("name is blank")
        return name


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The key itself: shown this once, only its hash is stored.")


class WebhookResult(BaseModel):
    """What a helpdesk gets back: the tags to set on its ticket, and the full classification."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "zendesk",
                    "external_id": "35436",
                    "ticket_id": 17,
                    "created": True,
                    "tags": ["triage_cost_economic", "triage_lang_ru", "triage_remedy_refund"],
                }
            ]
        }
    )

    source: str
    external_id: str
    ticket_id: int
    created: bool = Field(description="False when this ticket was delivered before: the stored result is returned.")
    tags: list[str]
    ticket: TicketOut


class DayStats(BaseModel):
    """Tickets of one UTC day and how many carry each cost and abuse risk (final labels)."""

    date: str = Field(examples=["2026-11-23"])
    tickets: int
    labels: dict[str, int]


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    model_version: str | None
    database: Literal["ok", "unreachable"]
