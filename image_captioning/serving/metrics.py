"""Prometheus metrics of one server, in its own registry (several servers can live in one process)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServerMetrics:
    """Requests by route and status, latency, batch sizes, queue depth and requests in progress.

    Example:
    ```python
    metrics = ServerMetrics()
    metrics.batch_sizes.observe(8)
    body, content_type = metrics.exposition()
    ```
    """

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("captioning_requests", "HTTP requests answered, by route and status code",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("captioning_request_latency_seconds", "Time from request to response, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_sizes = Histogram("captioning_batch_size", "Images per model call",
                                     buckets=BATCH_SIZE_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("captioning_queue_depth", "Images waiting for a batch", registry=self.registry)
        self.in_progress = Gauge("captioning_requests_in_progress", "Requests being handled", registry=self.registry)
        self.images = Counter("captioning_images", "Images captioned", registry=self.registry)

    def exposition(self):
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """ASGI middleware counting every HTTP response by route template (not raw path) and status."""

    def __init__(self, app, metrics: ServerMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = {"code": 500}

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.in_progress.dec()
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status["code"])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
