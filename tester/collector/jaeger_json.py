"""Spans as a Jaeger-UI JSON file (the "JSON File" tab of Jaeger UI's search page loads it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tester.collector.spans import Span


def _tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, tuple | list):
        return {"key": key, "type": "string", "value": ", ".join(map(str, value))}
    return {"key": key, "type": "string", "value": str(value)}


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
        tags = [_tag(k, v) for k, v in span.attributes.items()]
        tags.append(_tag("span.kind", span.kind.lower()))
        if span.status == "ERROR":
            tags.append(_tag("error", True))
            tags.append(_tag("otel.status_description", span.status_message))
        trace["spans"].append(
            {
                "traceID": span.trace_id,
                "spanID": span.span_id,
                "operationName": span.name,
                "references": [
                    {"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_span_id}
                ]
                if span.parent_span_id
                else [],
                "startTime": span.start_ns // 1000,
                "duration": span.duration_ns // 1000,
                "tags": tags,
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
