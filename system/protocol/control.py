"""Messages of the control channel between the webserver and the orchestrator.

Same framing as the producer protocol (4-byte length + MessagePack map with a
``t`` type key and a ``tc`` W3C trace context), different messages:

webserver -> orchestrator
    ``hello``    {token}: first frame; the control token proves the peer may drive runs
    ``request``  {id, op, args, deadline}: ``start``, ``stop``, ``list``, ``status``,
                 ``attributes``; ``deadline`` (wall-clock seconds since the epoch, optional)
                 is when the caller stops waiting: a request read after it is not carried
                 out (answered 504), so a request the caller was told failed never takes effect
orchestrator -> webserver
    ``reply``    {id, status, body}: ``status`` is an HTTP status code; on errors
                 ``body`` is ``{"error": message}``
    ``event``    {kind, run_id, body}: pushed without a request; ``kind`` is
                 ``run`` (a run's snapshot: state, counts, producers) or
                 ``attributes`` (``{"start": index, "items": [...]}``, newly found)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from system.protocol.codec import Codec, Message

OPS = ("start", "stop", "list", "status", "attributes")


@dataclass
class ControlHello(Message):
    TYPE: ClassVar[str] = "hello"
    token: str

    def __repr__(self) -> str:  # never print the token
        return "ControlHello(token=<redacted>)"


@dataclass
class ControlRequest(Message):
    TYPE: ClassVar[str] = "request"
    id: int
    op: str
    args: dict[str, Any]
    deadline: float | None = None


@dataclass
class ControlReply(Message):
    TYPE: ClassVar[str] = "reply"
    id: int
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class ControlEvent(Message):
    TYPE: ClassVar[str] = "event"
    kind: str
    run_id: str
    body: dict[str, Any]


ControlMessage = ControlHello | ControlRequest | ControlReply | ControlEvent

#: every field is required on this channel except ``ControlRequest.deadline``
CODEC: Codec[ControlMessage] = Codec(
    "control", (ControlHello, ControlRequest, ControlReply, ControlEvent)
)
