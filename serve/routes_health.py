"""Probes and metrics: `/healthz` (the process answers), `/readyz` (model loaded, database reachable), `/metrics`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from serve.resources import Resources
from serve.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness, "description": "Not ready."}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: the model is loaded and the database answers `SELECT 1`."""
    resources: Resources | None = getattr(request.app.state, "resources", None)
    version = resources.classifier.version if resources else None
    database: Literal["ok", "unreachable"] = "unreachable"
    if resources is not None:
        try:
            with resources.database.session() as session:
                session.execute(text("SELECT 1"))
            database = "ok"
        except SQLAlchemyError:
            database = "unreachable"
    ready = version is not None and database == "ok"
    body = Readiness(status="ready" if ready else "unavailable", model_version=version, database=database)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, predictions per label and the model version."""
    resources: Resources = request.app.state.resources
    return Response(resources.metrics.render(), media_type=CONTENT_TYPE_LATEST)
