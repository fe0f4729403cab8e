"""The manager web page: log in with a key, an inbox with filters and a chart, a ticket view to confirm or correct.

The key lives in an HttpOnly, SameSite=Strict cookie (the same check as the API's bearer keys). Pages are Jinja2
templates with autoescaping; the only script is static/app.js, which draws the chart with DOM calls, never HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from model.labels import ALL_LABELS
from serve.auth import REVIEW_ROLES, Caller, authenticate
from serve.db import Ticket
from serve.deps import ResourcesDep, SessionDep
from serve.i18n import LANGUAGE_NAMES, UI_LANGUAGES, words
from serve.routes_tickets import get_ticket
from serve.service import ticket_out
from serve.store import STATS_LABELS, TicketFilter, add_feedback, daily_stats, list_tickets

HERE = Path(__file__).parent
KEY_COOKIE = "triage_key"
LANG_COOKIE = "triage_ui_lang"
PAGE_SIZE = 25

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


def mount_static(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="static")


class LoginRequired(Exception):
    """No valid reviewer/manager/admin key in the cookie."""


def page_caller(request: Request, session: SessionDep) -> Caller:
    key = request.cookies.get(KEY_COOKIE)
    caller = authenticate(session, key) if key else None
    if caller is None or caller.role not in REVIEW_ROLES:
        raise LoginRequired
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]


def manager_lang(request: Request) -> str:
    """`?ml=` if given, else the cookie, else English."""
    lang = request.query_params.get("ml") or request.cookies.get(LANG_COOKIE, "en")
    return lang if lang in UI_LANGUAGES else "en"


def _render(request: Request, name: str, lang: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        name,
        {"t": words(lang), "lang": lang, "languages": LANGUAGE_NAMES, "labels": ALL_LABELS, **context},
        status_code=status_code,
    )
    response.set_cookie(LANG_COOKIE, lang, samesite="strict", httponly=True, path="/ui")
    return response


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _filters(query: dict[str, str]) -> TicketFilter:
    """Inbox filters from the query string; values that are not understood are ignored."""
    abuse = {"yes": True, "no": False}.get(query.get("abuse", ""))
    return TicketFilter(
        lang=query.get("lang") if query.get("lang") in ("ru", "ro", "bg", "other") else None,
        label=query.get("label") if query.get("label") in ALL_LABELS else None,
        abuse=abuse,
        needs_review=True if query.get("needs_review") == "1" else None,
        since=_date(query.get("since")),
        until=_date(query.get("until")),
    )


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", manager_lang(request), {"error": None})


@router.post("/login", response_model=None)
def login(request: Request, session: SessionDep, key: Annotated[str, Form()]) -> Response:
    lang = manager_lang(request)
    caller = authenticate(session, key.strip())
    if caller is None:
        return _render(request, "login.html", lang, {"error": words(lang)["bad_key"]}, status.HTTP_401_UNAUTHORIZED)
    if caller.role not in REVIEW_ROLES:
        return _render(request, "login.html", lang, {"error": words(lang)["wrong_role"]}, status.HTTP_403_FORBIDDEN)
    response = RedirectResponse("/ui/", status_code=status.HTTP_303_SEE_OTHER)
    secure = request.url.scheme == "https"
    response.set_cookie(KEY_COOKIE, key.strip(), httponly=True, samesite="strict", secure=secure, path="/ui")
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(KEY_COOKIE, path="/ui")
    return response


@router.get("/")
def inbox(request: Request, resources: ResourcesDep, session: SessionDep, _caller: PageCaller) -> HTMLResponse:
    """Recent tickets, newest first, with filters, a chart and pagination."""
    lang = manager_lang(request)
    query = dict(request.query_params)
    try:
        offset = max(int(query.get("offset", "0")), 0)
    except ValueError:
        offset = 0
    found, total = list_tickets(session, _filters(query), PAGE_SIZE, offset)
    kept = {k: v for k, v in query.items() if k in ("lang", "label", "abuse", "needs_review", "since", "until") and v}

    def page(at: int) -> str:
        return "?" + urlencode({**kept, "offset": at})

    return _render(
        request,
        "inbox.html",
        lang,
        {
            "tickets": [ticket_out(resources, ticket, lang) for ticket in found],
            "query": kept,
            "total": total,
            "offset": offset,
            "previous": page(max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
            "next": page(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
            "chart_labels": {label: words(lang)[label] for label in STATS_LABELS},
        },
    )


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request, _caller: PageCaller, resources: ResourcesDep, ticket: Annotated[Ticket, Depends(get_ticket)]
) -> HTMLResponse:
    lang = manager_lang(request)
    return _render(
        request,
        "ticket.html",
        lang,
        {"ticket": ticket_out(resources, ticket, lang), "saved": request.query_params.get("saved") == "1"},
    )


@router.post("/tickets/{ticket_id}/review")
def review(
    caller: PageCaller,
    session: SessionDep,
    ticket: Annotated[Ticket, Depends(get_ticket)],
    verdict: Annotated[str, Form(pattern="^(confirm|correct)$")],
    label: Annotated[list[str] | None, Form()] = None,
    lang: Annotated[str, Form(pattern="^(|ru|ro|bg)$")] = "",
) -> RedirectResponse:
    """Confirm, or correct to exactly the ticked labels (and the chosen language)."""
    if verdict == "confirm":
        add_feedback(session, ticket, caller, "confirm", {}, None)
    else:
        ticked = set(label or [])
        add_feedback(session, ticket, caller, "correct", {name: name in ticked for name in ALL_LABELS}, lang or None)
    return RedirectResponse(f"/ui/tickets/{ticket.id}?saved=1", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/stats.json")
def stats(session: SessionDep, _caller: PageCaller) -> JSONResponse:
    """The chart's data: the last 30 days."""
    return JSONResponse({"labels": list(STATS_LABELS), "days": daily_stats(session, 30)})


async def login_required(request: Request, exc: Exception) -> Response:
    """Pages send the browser to the login form; the chart's JSON answers 401."""
    if request.url.path.endswith(".json"):
        return JSONResponse({"detail": "log in first"}, status_code=status.HTTP_401_UNAUTHORIZED)
    return RedirectResponse("/ui/login", status_code=status.HTTP_303_SEE_OTHER)
