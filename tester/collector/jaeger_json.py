"""Spans as a Jaeger-UI JSON file (the "JSON File" tab of Jaeger UI's search page loads it).

Tags follow what Jaeger's own OTLP translator writes, so a file looks like a
trace Jaeger stored itself: array attributes as JSON arrays (a string tag, as
Jaeger has no array type), ``otel.status_code``/``otel.status_description``,
``otel.scope.name``/``otel.scope.version``, ``span.kind``, ``error``; the
parent is a ``CHILD_OF`` reference and each span link a ``FOLLOWS_FROM`` one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tester.collector.spans import Span


def _plain(value: Any) -> Any:
    """A JSON-able form of an attribute value (arrays and maps may nest)."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


def _tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, tuple | list | Mapping):
        return {"key": key, "type": "string", "value": json.dumps(_plain(value))}
    return {"key": key, "type": "string", "value": str(value)}


def _span_tags(span: Span) -> list[dict[str, Any]]:
    tags = [_tag(k, v) for k, v in span.attributes.items()]
    tags.append(_tag("span.kind", span.kind.lower()))
    if span.scope_name:
        tags.append(_tag("otel.scope.name", span.scope_name))
    if span.scope_version:
        tags.append(_tag("otel.scope.version", span.scope_version))
    if span.status != "UNSET":
        tags.append(_tag("otel.status_code", span.status))
    if span.status == "ERROR":
        tags.append(_tag("error", True))
        if span.status_message:
            tags.append(_tag("otel.status_description", span.status_message))
    return tags


def _references(span: Span) -> list[dict[str, Any]]:
    refs = []
    if span.parent_span_id:
        refs.append(
            {"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_span_id}
        )
    refs += [
        {"refType": "FOLLOWS_FROM", "traceID": link.trace_id, "spanID": link.span_id}
        for link in span.links
    ]
    return refs


def to_jaeger_json(spans: Iterable[Span]) -> dict[str, Any]:
    traces: dict[str, dict[str, Any]] = {}
    for span in spans:
        trace = traces.setdefault(
            span.trace_id, {"traceID": span.trace_id, "spans": [], "processes": {}, "_proc": {}}
        )
        resource_key = repr(sorted(span.resource.items()))
        process_id = trace["_proc"].get(resource_key)
        if process_id is None:
            process_id = f"p{len(trace['_proc']) + 1}"
            trace["_proc"][resource_key] = process_id
            trace["processes"][process_id] = {
                "serviceName": span.service_name,
                "tags": [_tag(k, v) for k, v in span.resource.items() if k != "service.name"],
            }
        trace["spans"].append(
            {
                "traceID": span.trace_id,
                "spanID": span.span_id,
                "operationName": span.name,
                "references": _references(span),
                "startTime": span.start_ns // 1000,
                "duration": span.duration_ns // 1000,
                "tags": _span_tags(span),
                "logs": [
                    {
                        "timestamp": e.time_ns // 1000,
                        "fields": [_tag("event", e.name)]
                        + [_tag(k, v) for k, v in e.attributes.items()],
                    }
                    for e in span.events
                ],
                "processID": process_id,
                "warnings": None,
            }
        )
    for trace in traces.values():
        del trace["_proc"]
    return {"data": list(traces.values()), "total": 0, "limit": 0, "offset": 0, "errors": None}
