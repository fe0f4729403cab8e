"""The FastAPI application: `/v1` API, helpdesk webhooks, probes, metrics and the manager web page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from serve import routes_classify, routes_health, routes_keys, routes_tickets, routes_webhooks, web
from serve.access_log import hide_secrets_in_access_log
from serve.metrics import Metrics
from serve.resources import Resources, load_resources
from triage.settings import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
"""FastAPI's interactive docs load Swagger UI / ReDoc from a CDN, so they cannot live under the strict policy."""

DESCRIPTION = """Tags Russian, Romanian and Bulgarian complaints with the costs the customer bore (economic, time,
social, emotional), abuse risk, churn and language, each with a calibrated probability, and suggests remedies.

Authenticate with `Authorization: Bearer <API key>` (`triage keys create --role ROLE --name NAME`). Roles:
**ingest** classifies, **reviewer** and **manager** read tickets and give feedback, **admin** does everything
and manages keys. Helpdesk webhooks are authenticated by their own signature or shared secret instead."""


async def invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 with the list of field errors, as ASCII JSON: an echoed input that is not valid Unicode (a lone
    surrogate from a `\\ud800` escape) is written escaped instead of failing the answer with a 500."""
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's answer to an HTTPException, but saying what is wrong with a body that is not UTF-8, where FastAPI
    says only 'There was an error parsing the body'."""
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, UnicodeDecodeError):
        exc = HTTPException(exc.status_code, f"the body is not JSON in UTF-8: {exc.__cause__}", exc.headers)
    return await http_exception_handler(request, exc)


def document_limits(app: FastAPI, settings: Settings) -> None:
    """State the configured text and batch limits in the app's OpenAPI schema: the request models cannot, as the
    limits are settings."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        models = schema["components"]["schemas"]
        models["ClassifyRequest"]["properties"]["text"]["maxLength"] = settings.max_text_chars
        models["BatchRequest"]["properties"]["items"]["maxItems"] = settings.max_batch
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings, resources: Resources | None = None) -> FastAPI:
    """The app; it loads the model and opens the database at start-up unless `resources` are given."""
    metrics = resources.metrics if resources is not None else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = resources if resources is not None else await run_in_threadpool(load_resources, settings, metrics)
        app.state.resources = loaded
        loaded.classifier.start_batching(settings.batch_max_texts, settings.batch_wait_ms)
        yield
        await loaded.classifier.stop_batching()
        loaded.database.close()

    app = FastAPI(title="Complaint triage", version="1", description=DESCRIPTION, lifespan=lifespan)
    for module in (routes_classify, routes_webhooks, routes_tickets, routes_keys, routes_health, web):
        app.include_router(module.router)
    web.mount_static(app)
    app.add_exception_handler(web.LoginRequired, web.login_required)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    document_limits(app, settings)
    hide_secrets_in_access_log()

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=status.HTTP_303_SEE_OTHER)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """413 for a declared body over `max_body_bytes`, before anything reads it."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_body_bytes:
            return JSONResponse(
                {"detail": f"request body of {declared} bytes; the limit is {settings.max_body_bytes}"},
                status_code=status.HTTP_413_CONTENT_TOO_LARGE,
            )
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith(DOCS_PATHS):
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    app.middleware("http")(metrics.middleware)
    return app
