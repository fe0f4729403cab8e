"""The FastAPI application: `/v1` API, helpdesk webhooks, probes, metrics and the manager web page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from serve import routes_classify, routes_health, routes_keys, routes_tickets, routes_webhooks, web
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
