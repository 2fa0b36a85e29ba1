"""The tester's span model, decoded from OTLP (protobuf or JSON) and re-encoded as OTLP/JSON."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUSES = ("UNSET", "OK", "ERROR")


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str
    attributes: Mapping[str, Any]
    resource: Mapping[str, Any]
    events: tuple[SpanEvent, ...] = ()
    scope_name: str = ""

    @property
    def service_name(self) -> str:
        return str(self.resource.get("service.name", "unknown_service"))

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    @property
    def duration_ms(self) -> float:
        return self.duration_ns / 1e6

    @property
    def is_root(self) -> bool:
        return self.parent_span_id is None

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)


def _any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(_any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def _attributes(kvs: Iterable[Any]) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in kvs}


def spans_from_request(request: ExportTraceServiceRequest) -> list[Span]:
    spans: list[Span] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for s in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex() or None,
                        name=s.name,
                        kind=KINDS[s.kind] if 0 <= s.kind < len(KINDS) else "UNSPECIFIED",
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        status=STATUSES[s.status.code] if 0 <= s.status.code < 3 else "UNSET",
                        status_message=s.status.message,
                        attributes=_attributes(s.attributes),
                        resource=resource,
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano, _attributes(e.attributes))
                            for e in s.events
                        ),
                        scope_name=scope,
                    )
                )
    return spans


_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids_to_base64(node: Any) -> None:
    """OTLP/JSON carries ids as hex; protobuf's JSON mapping expects base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError as exc:
                    raise ValueError(f"{key} {value!r} is not hex") from exc
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def request_from_otlp_json(body: bytes | str | dict[str, Any]) -> ExportTraceServiceRequest:
    data = json.loads(body) if isinstance(body, bytes | str) else json.loads(json.dumps(body))
    if not isinstance(data, dict):
        raise ValueError("OTLP/JSON body must be an object")
    _hex_ids_to_base64(data)
    request = ExportTraceServiceRequest()
    json_format.ParseDict(data, request, ignore_unknown_fields=True)
    return request


def spans_from_otlp_json(body: bytes | str | dict[str, Any]) -> list[Span]:
    return spans_from_request(request_from_otlp_json(body))


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, tuple | list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _json_attributes(value)}}
    if value is None:
        return {}
    return {"stringValue": str(value)}


def _json_attributes(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _json_value(v)} for k, v in attributes.items()]


def spans_to_otlp_json(spans: Iterable[Span]) -> dict[str, Any]:
    """An OTLP/JSON ExportTraceServiceRequest holding the spans, grouped by resource and scope."""
    groups: dict[str, tuple[Mapping[str, Any], dict[str, list[dict[str, Any]]]]] = {}
    for s in spans:
        key = json.dumps(s.resource, sort_keys=True, default=str)
        _, scopes = groups.setdefault(key, (s.resource, {}))
        entry: dict[str, Any] = {
            "traceId": s.trace_id,
            "spanId": s.span_id,
            "name": s.name,
            "kind": KINDS.index(s.kind) if s.kind in KINDS else 0,
            "startTimeUnixNano": str(s.start_ns),
            "endTimeUnixNano": str(s.end_ns),
            "attributes": _json_attributes(s.attributes),
            "events": [
                {
                    "name": e.name,
                    "timeUnixNano": str(e.time_ns),
                    "attributes": _json_attributes(e.attributes),
                }
                for e in s.events
            ],
            "status": {"code": STATUSES.index(s.status), "message": s.status_message},
        }
        if s.parent_span_id:
            entry["parentSpanId"] = s.parent_span_id
        scopes.setdefault(s.scope_name, []).append(entry)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _json_attributes(resource)},
                "scopeSpans": [
                    {"scope": {"name": name}, "spans": items} for name, items in scopes.items()
                ],
            }
            for resource, scopes in groups.values()
        ]
    }
