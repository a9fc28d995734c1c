"""OpenTelemetry traces: one trace per record, one span per step, across runners and machines.

A record's trace id and root span id are derived from its id, so every runner that runs one of
its steps links the step's span to the same parent without passing anything around. The root
span itself is emitted by whichever runner finishes the record, with the record's start time.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

_tracer: trace.Tracer | None = None


class _RecordIds(IdGenerator):
    """Random ids, except for the span that is being made as a record's root."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self._pinned = threading.local()

    def generate_span_id(self) -> int:
        pinned: int | None = getattr(self._pinned, "span_id", None)
        return pinned if pinned is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        pinned: int | None = getattr(self._pinned, "trace_id", None)
        return pinned if pinned is not None else self._random.generate_trace_id()

    @contextmanager
    def pin(self, trace_id: int, span_id: int) -> Iterator[None]:
        self._pinned.trace_id, self._pinned.span_id = trace_id, span_id
        try:
            yield
        finally:
            self._pinned.trace_id = self._pinned.span_id = None


_ids = _RecordIds()


class JsonLinesExporter(SpanExporter):
    """Spans as JSON lines in a file: for tests and for shipping with any log collector."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(_span_json(span)) + "\n" for span in spans]
        with self._lock, open(self.path, "a") as handle:
            handle.writelines(lines)
        return SpanExportResult.SUCCESS


def _span_json(span: ReadableSpan) -> dict[str, object]:
    context = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "traceId": f"{context.trace_id:032x}" if context else None,
        "spanId": f"{context.span_id:016x}" if context else None,
        "parentSpanId": f"{parent.span_id:016x}" if parent else None,
        "start": span.start_time,
        "end": span.end_time,
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
    }


def configure(exporter: str, file: str, endpoint: str, service: str) -> None:
    """exporter: none | file | otlp."""
    global _tracer
    if exporter == "none":
        _tracer = None
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), id_generator=_ids
    )
    if exporter == "file":
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(Path(file))))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint or None)))
    _tracer = provider.get_tracer("conveyor")


def record_ids(record_id: int) -> tuple[int, int]:
    seed = hashlib.sha256(f"conveyor-record-{record_id}".encode()).digest()
    return int.from_bytes(seed[:16], "big") or 1, int.from_bytes(seed[16:24], "big") or 1


@contextmanager
def step_span(record_id: int, step_id: int, node: str, attempt: int) -> Iterator[trace.Span | None]:
    if _tracer is None:
        yield None
        return
    trace_id, root_id = record_ids(record_id)
    parent = SpanContext(trace_id, root_id, is_remote=True, trace_flags=TraceFlags(1))
    context = trace.set_span_in_context(NonRecordingSpan(parent))
    attributes: dict[str, int | str] = {
        "conveyor.record": record_id,
        "conveyor.step": step_id,
        "conveyor.node": node,
        "conveyor.attempt": attempt,
    }
    with _tracer.start_as_current_span(
        f"step {node}", context=context, attributes=attributes
    ) as span:
        yield span


def end_step_span(span: trace.Span | None, status: str, error: str | None) -> None:
    if span is None:
        return
    span.set_attribute("conveyor.status", status)
    if status not in ("SUCCESS", "SKIPPED"):
        span.set_status(Status(StatusCode.ERROR, error or status))


def record_span(
    record_id: int, chain: str, result: str, started: datetime, ended: datetime
) -> None:
    if _tracer is None:
        return
    trace_id, root_id = record_ids(record_id)
    with _ids.pin(trace_id, root_id):
        span = _tracer.start_span(
            f"record {chain}",
            context=trace.set_span_in_context(trace.INVALID_SPAN),
            attributes={
                "conveyor.record": record_id,
                "conveyor.chain": chain,
                "conveyor.result": result,
            },
            start_time=int(started.timestamp() * 1e9),
        )
    span.end(end_time=int(ended.timestamp() * 1e9))
