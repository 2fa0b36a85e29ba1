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
ignores it (a type it does not know is a ``ProtocolError``). Fields are
declared once, here; :mod:`system.protocol.codec` encodes them and checks
every decoded field against its annotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypedDict

from system.protocol.codec import Codec, Message

PROTOCOL_VERSION = 1


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
    heartbeat_s: float  # send a ProducerStatus this often (the orchestrator's silence watch)


#: ProducerStatus.state
#: (``heartbeat``: alive, sent every ``StartTopicSettings.heartbeat_s``, says nothing else)
ReportedState = Literal["running", "finished", "degraded", "error", "heartbeat"]


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


CODEC: Codec[Message] = Codec(
    "producer",
    (
        Hello,
        StartTopic,
        UpdateConfiguration,
        ProposeSubtopics,
        Stop,
        AttributeBatch,
        ProducerStatus,
        SubtopicProposal,
    ),
)
encode_message = CODEC.encode
decode_message = CODEC.decode
read_message = CODEC.read
write_message = CODEC.write
