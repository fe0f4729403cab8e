"""Prometheus metrics of one app: requests, latency, predictions per label, and the served model's version."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest

from model.predictor import Prediction

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's own registry (so several apps in one process, as in tests, don't collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "triage_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "triage_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "triage_predictions",
            "Newly classified texts by label and the model's decision.",
            ["label", "decision"],
            registry=self.registry,
        )
        self.model = Info("triage_model", "The model being served.", registry=self.registry)

    def count_predictions(self, predictions: Sequence[Prediction]) -> None:
        for prediction in predictions:
            for name, label in prediction.labels.items():
                self.predictions.labels(label=name, decision=str(label.decision).lower()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Count and time every request under its route template (not the raw path, which would explode labels)."""
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.latency.labels(request.method, template).observe(time.perf_counter() - started)
        self.requests.labels(request.method, template, str(response.status_code)).inc()
        return response
