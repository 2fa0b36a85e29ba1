"""The messages exchanged over the orchestrator <-> producer TCP connection.

Every message is a MessagePack map with a ``t`` (type) key, the message's
fields, and ``tc``: the W3C trace context (``traceparent``/``tracestate``) of
the sender's current span, so that one topic run is one connected trace.

Producer -> orchestrator: Hello (first frame, presents the run token),
AttributeBatch, ProducerStatus, SubtopicProposal (the answer to a
ProposeSubtopics).
Orchestrator -> producer: StartTopic (answer to a valid Hello),
UpdateConfiguration, ProposeSubtopics (``--partition-by subtopics``: ask one
producer to have its LLM propose sub-topics of the topic), Stop.

Adding a message type is a compatible change within the same protocol
version as long as it is only sent to peers that asked for the feature: the
orchestrator sends ProposeSubtopics only with ``--partition-by subtopics``,
and a receiver that decodes a known type it does not handle logs it and
ignores it (a type it does not know is a ``ProtocolError``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypedDict, get_args, get_origin

import msgpack

PROTOCOL_VERSION = 1


class ProtocolError(ValueError):
    """A frame decoded but is not a valid message."""


class LeverSettings(TypedDict, total=False):
    """``StartTopic.settings["levers"]``: the producer's side of the efficiency levers.

    Every key is optional: a producer reads a missing one as "off" (an older
    orchestrator), see ``system/levers/producer.py``.
    """

    shared_state: bool
    avoid_budget: int  # tokens of found items per prompt
    prefilter: bool
    strategy: str  # the adaptive strategy's arm
    known_sample: list[str]  # found items for the avoid list
    known_keys: bytes  # the run's keys, little-endian u64 (the pre-filter's seed)
    adaptive: bool  # the adaptive strategy assigns arms per provider (issue 10 item 4)
    arms: dict[str, str]  # provider key -> arm


class StartTopicSettings(TypedDict, total=False):
    """``StartTopic.settings``: what a producer needs beyond the typed fields.

    A map rather than fields so that a setting can be added without a new
    protocol version; every key is optional and has a default on the producer.
    """

    start_seq: int  # the slot's next batch sequence number (a restarted producer continues)
    sim_latency_ms: float  # --provider test
    sim_profile: str  # --provider test: weak | strong
    levers: LeverSettings


#: ProducerStatus.state
ReportedState = Literal["running", "finished", "degraded", "error"]


@dataclass
class Message:
    TYPE: ClassVar[str] = ""
    trace_context: dict[str, str] = field(default_factory=dict, kw_only=True)


@dataclass
class Hello(Message):
    TYPE: ClassVar[str] = "hello"
    producer_id: int
    token: str
    pid: int
    protocol_version: int = PROTOCOL_VERSION

    def __repr__(self) -> str:  # never print the token
        return f"Hello(producer_id={self.producer_id}, pid={self.pid}, token=<redacted>)"


@dataclass
class StartTopic(Message):
    TYPE: ClassVar[str] = "start_topic"
    run_id: str
    topic: str
    request_size: int
    iterations: int | None
    provider: str
    provider_weights: dict[str, float] = field(default_factory=dict)
    partition: str | None = None
    settings: StartTopicSettings = field(default_factory=StartTopicSettings)


@dataclass
class UpdateConfiguration(Message):
    TYPE: ClassVar[str] = "update_configuration"
    provider_weights: dict[str, float] | None = None
    partition: str | None = None  # "" = the whole topic
    new_uniques: list[str] | None = None
    #: adaptive strategy: the strategy's name and its avoid-list budget (tokens)
    strategy: str | None = None
    avoid_budget: int | None = None
    #: adaptive strategy: the arm per provider (provider key -> arm), beside ``strategy``,
    #: the arm for providers not named
    arms: dict[str, str] | None = None


@dataclass
class Stop(Message):
    TYPE: ClassVar[str] = "stop"
    reason: str = "stop"


@dataclass
class ProposeSubtopics(Message):
    """Ask a producer for ``count`` sub-topics of the topic, none of ``exclude``."""

    TYPE: ClassVar[str] = "propose_subtopics"
    request_id: int  # the orchestrator's round number, echoed in the answer
    count: int
    exclude: list[str] = field(default_factory=list)


@dataclass
class AttributeBatch(Message):
    TYPE: ClassVar[str] = "attribute_batch"
    producer_id: int
    seq: int
    candidates: list[str]
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    #: xxHash3-64 keys of the candidates, in order (pre-filter); absent: the orchestrator hashes
    keys: list[int] | None = None
    #: candidates the producer dropped as already known before sending
    prefiltered: int | None = None
    #: the partition label and strategy the batch was generated under
    partition: str | None = None
    strategy: str | None = None
    #: keys (little-endian uint64s) of known candidates the pre-filter dropped, once each:
    #: counted as sightings (support per item, the completeness estimate)
    repeat_keys: bytes | None = None
    #: how the answer obeyed its prompt (system.levers.strategy.obedience): non-empty
    #: answer lines, lines echoing the prompt, candidates outside the named partition
    lines: int | None = None
    echoes: int | None = None
    off_partition: int | None = None


@dataclass
class ProducerStatus(Message):
    TYPE: ClassVar[str] = "producer_status"
    producer_id: int
    state: ReportedState
    iterations_done: int = 0
    detail: str = ""


@dataclass
class SubtopicProposal(Message):
    """A producer's answer to ProposeSubtopics: the labels, or why there are none."""

    TYPE: ClassVar[str] = "subtopic_proposal"
    producer_id: int
    request_id: int
    labels: list[str] = field(default_factory=list)
    error: str | None = None  # set when the LLM call failed; labels are then empty
    provider: str | None = None
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


#: a lone surrogate (a str can hold one; UTF-8 cannot)
_SURROGATE = re.compile("[\ud800-\udfff]")

_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        Hello,
        StartTopic,
        UpdateConfiguration,
        ProposeSubtopics,
        Stop,
        AttributeBatch,
        ProducerStatus,
        SubtopicProposal,
    )
}

_FIELD_TYPES: dict[str, dict[str, tuple[type, ...]]] = {}


def _python_types(annotation: str) -> tuple[type, ...]:
    kinds: list[type] = []
    for part in annotation.replace(" ", "").split("|"):
        base = part.split("[", 1)[0]
        kinds.extend(
            {
                "int": (int,),
                "float": (int, float),
                "str": (str,),
                "bool": (bool,),
                "bytes": (bytes,),
                "list": (list,),
                "dict": (dict,),
                "None": (type(None),),
                "Any": (object,),
            }.get(base)
            or _named_types(base)
        )
    return tuple(kinds)


def _named_types(name: str) -> tuple[type, ...]:
    """Runtime types of an alias or TypedDict of this module named in an annotation."""
    named = globals().get(name)
    if get_origin(named) is Literal:
        return tuple({type(value) for value in get_args(named)})
    if isinstance(named, type) and issubclass(named, dict):  # a TypedDict is a dict
        return (dict,)
    return (object,)


for _name, _cls in _TYPES.items():
    _FIELD_TYPES[_name] = {
        f.name: _python_types(str(f.type))
        for f in dataclasses.fields(_cls)
        if f.name != "trace_context"
    }


def encode_message(message: Message) -> bytes:
    """Optional fields that are None are left out: a peer that predates them can
    still decode the frame, and it is smaller."""
    body: dict[str, Any] = {"t": message.TYPE, "tc": message.trace_context}
    for f in dataclasses.fields(message):
        if f.name != "trace_context":
            value = getattr(message, f.name)
            if value is None and f.default is None:
                continue
            body[f.name] = value
    try:
        return msgpack.packb(body, use_bin_type=True)
    except UnicodeEncodeError:  # a lone surrogate from a model's answer: never kill the sender
        return msgpack.packb(_scrub(body), use_bin_type=True)


def _scrub(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def unpack_envelope(payload: bytes) -> tuple[object, dict[str, Any], dict[str, str]]:
    """Unpack a frame into (type key, fields, trace context); ProtocolError if malformed."""
    try:
        body = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated exception types
        raise ProtocolError(f"frame is not valid MessagePack: {exc}") from exc
    if not isinstance(body, dict):
        raise ProtocolError("frame is not a map")
    kind = body.pop("t", None)
    trace_context = body.pop("tc", {}) or {}
    if not isinstance(trace_context, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in trace_context.items()
    ):
        raise ProtocolError("trace context must be a map of strings")
    return kind, body, trace_context


def decode_message(payload: bytes) -> Message:
    """Decode one frame payload; raise ProtocolError for anything malformed."""
    kind, body, trace_context = unpack_envelope(payload)
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None or not isinstance(kind, str):
        raise ProtocolError(f"unknown message type {kind!r}")
    expected = _FIELD_TYPES[kind]
    unknown = set(body) - set(expected)
    if unknown:
        raise ProtocolError(f"{kind}: unknown fields {sorted(unknown)}")
    for name, value in body.items():
        if not isinstance(value, expected[name]) or (
            isinstance(value, bool) and bool not in expected[name] and object not in expected[name]
        ):
            raise ProtocolError(f"{kind}.{name}: unexpected type {type(value).__name__}")
    try:
        return cls(**body, trace_context=trace_context)
    except TypeError as exc:
        raise ProtocolError(f"{kind}: {exc}") from exc
