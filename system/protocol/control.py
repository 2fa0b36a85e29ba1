"""Messages of the control channel between the webserver and the orchestrator.

Same framing as the producer protocol (4-byte length + MessagePack map with a
``t`` type key and a ``tc`` W3C trace context), different messages:

webserver -> orchestrator
    ``hello``    {token}: first frame; the control token proves the peer may drive runs
    ``request``  {id, op, args}: ``start``, ``stop``, ``list``, ``status``, ``attributes``
orchestrator -> webserver
    ``reply``    {id, status, body}: ``status`` is an HTTP status code; on errors
                 ``body`` is ``{"error": message}``
    ``event``    {kind, run_id, body}: pushed without a request; ``kind`` is
                 ``run`` (a run's snapshot: state, counts, producers) or
                 ``attributes`` (``{"start": index, "items": [...]}``, newly found)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

from system.protocol.messages import ProtocolError, unpack_envelope

OPS = ("start", "stop", "list", "status", "attributes")


@dataclass
class ControlHello:
    token: str
    trace_context: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print the token
        return "ControlHello(token=<redacted>)"


@dataclass
class ControlRequest:
    id: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    trace_context: dict[str, str] = field(default_factory=dict)


@dataclass
class ControlReply:
    id: int
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    trace_context: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class ControlEvent:
    kind: str
    run_id: str
    body: dict[str, Any] = field(default_factory=dict)
    trace_context: dict[str, str] = field(default_factory=dict)


ControlMessage = ControlHello | ControlRequest | ControlReply | ControlEvent

_SCHEMA: dict[str, tuple[type, dict[str, type | tuple[type, ...]]]] = {
    "hello": (ControlHello, {"token": str}),
    "request": (ControlRequest, {"id": int, "op": str, "args": dict}),
    "reply": (ControlReply, {"id": int, "status": int, "body": dict}),
    "event": (ControlEvent, {"kind": str, "run_id": str, "body": dict}),
}
_TYPE_OF = {cls: name for name, (cls, _) in _SCHEMA.items()}


def encode_control(message: ControlMessage) -> bytes:
    body: dict[str, Any] = {"t": _TYPE_OF[type(message)], "tc": message.trace_context}
    for name in _SCHEMA[body["t"]][1]:
        body[name] = getattr(message, name)
    return msgpack.packb(body, use_bin_type=True)


def decode_control(payload: bytes) -> ControlMessage:
    """Decode one control frame; ProtocolError for anything malformed."""
    kind, body, trace_context = unpack_envelope(payload)
    if not isinstance(kind, str) or kind not in _SCHEMA:
        raise ProtocolError(f"unknown control message type {kind!r}")
    cls, fields = _SCHEMA[kind]
    if set(body) != set(fields):
        raise ProtocolError(f"{kind}: expected fields {sorted(fields)}, got {sorted(body)}")
    for name, expected in fields.items():
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ProtocolError(f"{kind}.{name}: unexpected type {type(value).__name__}")
    return cls(**body, trace_context=trace_context)
