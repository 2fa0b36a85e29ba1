"""Wire protocol between the orchestrator and its producers.

Frames are a 4-byte big-endian length followed by a MessagePack map
(see :mod:`system.protocol.framing`); the maps are the typed messages of
:mod:`system.protocol.messages`, encoded and checked by
:mod:`system.protocol.codec`.
"""

from system.protocol.codec import Message, ProtocolError
from system.protocol.framing import (
    DEFAULT_MAX_FRAME,
    FrameError,
    FrameReader,
    encode_frame,
)
from system.protocol.messages import (
    PROTOCOL_VERSION,
    AttributeBatch,
    Hello,
    ProducerStatus,
    ProposeSubtopics,
    StartTopic,
    Stop,
    SubtopicProposal,
    UpdateConfiguration,
    decode_message,
    encode_message,
    read_message,
    write_message,
)

__all__ = [
    "DEFAULT_MAX_FRAME",
    "PROTOCOL_VERSION",
    "AttributeBatch",
    "FrameError",
    "FrameReader",
    "Hello",
    "Message",
    "ProducerStatus",
    "ProposeSubtopics",
    "ProtocolError",
    "StartTopic",
    "Stop",
    "SubtopicProposal",
    "UpdateConfiguration",
    "decode_message",
    "encode_frame",
    "encode_message",
    "read_message",
    "write_message",
]
