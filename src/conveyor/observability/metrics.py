"""The Prometheus metrics every part of Conveyor reports (scraped at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "conveyor_http_requests_total",
    "HTTP requests by route and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "conveyor_http_request_seconds",
    "Time to the end of each response, by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
HTTP_BYTES = Counter("conveyor_http_bytes_total", "Body bytes, in and out", ["direction"])
STEP_SECONDS = Histogram(
    "conveyor_step_duration_seconds",
    "Duration of chain steps by node and outcome",
    ["node", "status"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800),
)
STEPS = Counter(
    "conveyor_steps_total", "Chain steps finished, by node and outcome", ["node", "status"]
)
QUEUE_DEPTH = Gauge("conveyor_queue_depth", "Steps waiting for a runner, by node", ["node"])
WEBHOOK_ATTEMPTS = Counter(
    "conveyor_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"]
)
