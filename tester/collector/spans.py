"""The tester's span model, decoded from OTLP (protobuf or JSON) and re-encoded as OTLP/JSON.

OTLP/JSON differs from protobuf's canonical JSON mapping in one way that matters here:
trace and span ids are hex strings, not base64. ``request_from_otlp_json`` rewrites them
before handing the document to ``google.protobuf.json_format``, which takes care of the
rest (lowerCamelCase or snake_case names, int64 as strings or numbers, enums as ints or
names, "NaN"/"Infinity" doubles).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUSES = ("UNSET", "OK", "ERROR")
DEFAULT_SERVICE_NAME = "unknown_service"


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SpanLink:
    """A link to another span (e.g. the request that caused this work, in another trace)."""

    trace_id: str
    span_id: str
    attributes: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Span:
    """One finished span. Hashable (by its scalar fields); equality compares every field."""

    trace_id: str  # 32 lowercase hex chars
    span_id: str  # 16 lowercase hex chars
    parent_span_id: str | None  # None for a root span
    name: str
    kind: str  # one of KINDS
    start_ns: int
    end_ns: int
    status: str  # one of STATUSES
    status_message: str
    attributes: Mapping[str, Any] = field(hash=False)
    resource: Mapping[str, Any] = field(hash=False)
    events: tuple[SpanEvent, ...] = field(default=(), hash=False)
    scope_name: str = ""
    scope_version: str = ""
    links: tuple[SpanLink, ...] = field(default=(), hash=False)

    @property
    def service_name(self) -> str:
        return str(self.resource.get("service.name", DEFAULT_SERVICE_NAME))

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

    def __repr__(self) -> str:
        """One short line: a failure message that shows spans must not drown in their
        resources and attributes (``attributes`` and ``describe_span`` have the rest)."""
        status = f" {self.status}" if self.status == "ERROR" else ""
        return (
            f"<Span {self.name!r} {self.service_name} {self.span_id[:8]} "
            f"{self.duration_ms:.1f}ms{status} attrs={len(self.attributes)}>"
        )


#: what a span costs beyond its text: ids, timestamps, the objects themselves
SPAN_OVERHEAD_BYTES = 512


def _value_size(value: Any) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, tuple | list):
        return 8 + sum(_value_size(v) for v in value)
    if isinstance(value, Mapping):
        return _attributes_size(value)
    return 8


def _attributes_size(attributes: Mapping[str, Any]) -> int:
    return sum(len(k) + _value_size(v) for k, v in attributes.items())


def span_size(span: Span) -> int:
    """About how many bytes the span holds (its resource, shared by a batch, not counted)."""
    return (
        SPAN_OVERHEAD_BYTES
        + len(span.name)
        + len(span.status_message)
        + _attributes_size(span.attributes)
        + sum(len(e.name) + 64 + _attributes_size(e.attributes) for e in span.events)
        + sum(64 + _attributes_size(link.attributes) for link in span.links)
    )


# ------------------------------------------------------------------ protobuf -> Span


def _any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(_any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind)


def _attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in kvs}


def _enum_name(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else names[0]


def spans_from_request(request: ExportTraceServiceRequest) -> list[Span]:
    """Every span of an OTLP export request, in request order."""
    spans: list[Span] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope, scope_version = scope_spans.scope.name, scope_spans.scope.version
            for s in scope_spans.spans:
                spans.append(
                    Span(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex() or None,
                        name=s.name,
                        kind=_enum_name(KINDS, s.kind),
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        status=_enum_name(STATUSES, s.status.code),
                        status_message=s.status.message,
                        attributes=_attributes(s.attributes),
                        resource=resource,
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano, _attributes(e.attributes))
                            for e in s.events
                        ),
                        scope_name=scope,
                        scope_version=scope_version,
                        links=tuple(
                            SpanLink(
                                link.trace_id.hex(),
                                link.span_id.hex(),
                                _attributes(link.attributes),
                            )
                            for link in s.links
                        ),
                    )
                )
    return spans


# ------------------------------------------------------------------ OTLP/JSON -> Span

# Where OTLP/JSON carries ids (spans, links); both spellings json_format accepts.
_ID_FIELDS = frozenset(
    {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
)
_ID_LENGTHS = (0, 8, 16)


def _id_to_base64(key: str, value: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        pass
    # Not hex. Tolerate senders that use protobuf's base64 mapping, but only when that
    # unambiguously yields an id (8 or 16 bytes); anything else is an error.
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is not None and len(raw) in _ID_LENGTHS:
        return value
    raise ValueError(f"{key} {value!r} is not a hex id")


def _hex_ids_to_base64(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = _id_to_base64(key, value)
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def request_from_otlp_json(body: bytes | str | Mapping[str, Any]) -> ExportTraceServiceRequest:
    """Parse an OTLP/JSON ExportTraceServiceRequest; ValueError when it is not one."""
    try:
        # A dict is copied through JSON: the id rewrite must not touch the caller's object.
        data = json.loads(body if isinstance(body, bytes | str) else json.dumps(body))
    except (TypeError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    # json.JSONDecodeError and UnicodeDecodeError are ValueErrors already.
    if not isinstance(data, dict):
        raise ValueError(f"an OTLP/JSON body is an object, not {type(data).__name__}")
    _hex_ids_to_base64(data)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(data, request, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc
    return request


def spans_from_otlp_json(body: bytes | str | Mapping[str, Any]) -> list[Span]:
    """Spans of an OTLP/JSON ExportTraceServiceRequest (hex ids); ValueError when malformed."""
    return spans_from_request(request_from_otlp_json(body))


# ------------------------------------------------------------------ Span -> OTLP/JSON


def _json_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        # Non-finite doubles as the proto3 JSON strings: bare NaN/Infinity are not JSON.
        if math.isnan(value):
            return {"doubleValue": "NaN"}
        if math.isinf(value):
            return {"doubleValue": "Infinity" if value > 0 else "-Infinity"}
        return {"doubleValue": value}
    if isinstance(value, bytes | bytearray):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, tuple | list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": _json_attributes(value)}}
    return {"stringValue": str(value)}


def _json_attributes(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": _json_value(v)} for k, v in attributes.items()]


def _freeze(value: Any) -> Any:
    """A hashable, type-exact key for an attribute value (so 1, 1.0, True and "1" differ)."""
    if value is None:
        return ("n",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int):
        return ("i", value)
    if isinstance(value, float):
        return ("f", repr(value))
    if isinstance(value, bytes | bytearray):
        return ("y", bytes(value))
    if isinstance(value, tuple | list):
        return ("a", tuple(_freeze(v) for v in value))
    if isinstance(value, Mapping):
        return ("m", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    return ("s", str(value))


def _span_json(s: Span) -> dict[str, Any]:
    entry: dict[str, Any] = {"traceId": s.trace_id, "spanId": s.span_id}
    if s.parent_span_id:
        entry["parentSpanId"] = s.parent_span_id
    entry.update(
        {
            "name": s.name,
            "kind": KINDS.index(s.kind) if s.kind in KINDS else 0,
            "startTimeUnixNano": str(s.start_ns),
            "endTimeUnixNano": str(s.end_ns),
            "attributes": _json_attributes(s.attributes),
            "events": [
                {
                    "timeUnixNano": str(e.time_ns),
                    "name": e.name,
                    "attributes": _json_attributes(e.attributes),
                }
                for e in s.events
            ],
            "status": {
                "code": STATUSES.index(s.status) if s.status in STATUSES else 0,
                "message": s.status_message,
            },
        }
    )
    if s.links:
        entry["links"] = [
            {
                "traceId": link.trace_id,
                "spanId": link.span_id,
                "attributes": _json_attributes(link.attributes),
            }
            for link in s.links
        ]
    return entry


def _scope_json(name: str, version: str) -> dict[str, str]:
    return {"name": name, "version": version} if version else {"name": name}


def spans_to_otlp_json(spans: Iterable[Span]) -> dict[str, Any]:
    """An OTLP/JSON ExportTraceServiceRequest (hex ids, int64 as strings) holding the spans.

    Spans are grouped by resource, then by scope name, each group in order of first
    appearance; ``spans_from_otlp_json`` reads every field of the model back unchanged.
    """
    groups: dict[Any, tuple[Mapping[str, Any], dict[tuple[str, str], list[dict[str, Any]]]]] = {}
    for s in spans:
        _, scopes = groups.setdefault(_freeze(s.resource), (s.resource, {}))
        scopes.setdefault((s.scope_name, s.scope_version), []).append(_span_json(s))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _json_attributes(resource)},
                "scopeSpans": [
                    {"scope": _scope_json(name, version), "spans": items}
                    for (name, version), items in scopes.items()
                ],
            }
            for resource, scopes in groups.values()
        ]
    }
