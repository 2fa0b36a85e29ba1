"""The message codec: declared once as dataclasses, checked on decode with clear errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypedDict

import msgpack
import pytest

from system.protocol import AttributeBatch, ProtocolError, StartTopic, decode_message
from system.protocol.codec import Codec, Message


class _Inner(TypedDict, total=False):
    size: int
    names: list[str]


class _Needed(TypedDict):
    id: int


@dataclass
class _Sample(Message):
    TYPE: ClassVar[str] = "sample"
    count: int
    ratio: float
    mode: Literal["a", "b"]
    names: list[str]
    weights: dict[str, float]
    inner: _Inner
    needed: _Needed
    blob: bytes | None = None
    label: str | None = None
    tags: list[str] = field(default_factory=list)
    anything: Any = None


CODEC: Codec[_Sample] = Codec("test", [_Sample])
GOOD: dict[str, Any] = {
    "count": 1,
    "ratio": 0.5,
    "mode": "a",
    "names": ["x"],
    "weights": {"p": 1.0},
    "inner": {"size": 2},
    "needed": {"id": 1},
}


def _frame(**changes: Any) -> bytes:
    body = {"t": "sample", "tc": {}, **GOOD, **changes}
    return msgpack.packb({k: v for k, v in body.items() if v is not ...}, use_bin_type=True)


def test_a_message_round_trips_and_none_defaults_stay_off_the_wire() -> None:
    message = _Sample(**GOOD, blob=b"\x00\xff", trace_context={"traceparent": "00-x"})
    payload = CODEC.encode(message)
    assert CODEC.decode(payload) == message
    assert b"label" not in payload  # None with a None default: left out
    assert b"tags" in payload  # other defaults are sent


def test_float_fields_take_ints_and_unknown_typed_dict_keys_pass() -> None:
    decoded = CODEC.decode(_frame(ratio=2, inner={"size": 1, "newer_setting": [1]}))
    assert decoded.ratio == 2 and decoded.inner == {"size": 1, "newer_setting": [1]}
    assert CODEC.decode(_frame(anything={"free": ["form"]})).anything == {"free": ["form"]}


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"count": "1"}, r"sample\.count: unexpected type str \(expected int\)"),
        ({"count": True}, r"sample\.count: unexpected type bool"),  # a bool is no int
        ({"ratio": "x"}, r"sample\.ratio: unexpected type str"),
        ({"mode": "c"}, r"sample\.mode: unexpected value 'c'"),
        ({"mode": 1}, r"sample\.mode: unexpected type int"),
        ({"names": "x"}, r"sample\.names: unexpected type str \(expected list\)"),
        ({"names": ["x", 2]}, r"sample\.names\[1\]: unexpected type int"),
        ({"weights": {"p": "heavy"}}, r"sample\.weights\['p'\]: unexpected type str"),
        ({"inner": [1]}, r"sample\.inner: unexpected type list \(expected map\)"),
        ({"inner": {"size": "big"}}, r"sample\.inner\.size: unexpected type str"),
        ({"inner": {"names": [None]}}, r"sample\.inner\.names\[0\]: unexpected type NoneType"),
        ({"needed": {}}, r"sample\.needed: missing keys \['id'\]"),
        ({"blob": "text"}, r"sample\.blob: unexpected type str"),
        ({"label": 3}, r"sample\.label: unexpected type int"),
        ({"count": ...}, r"sample: missing fields \['count'\]"),
        ({"extra": 1, "more": 2}, r"sample: unknown fields \['extra', 'more'\]"),
        ({"t": "other"}, r"unknown message type 'other' \(test protocol\)"),
        ({"t": ...}, "unknown message type None"),
        ({"tc": {"traceparent": 1}}, "trace context must be a map of strings"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        CODEC.decode(_frame(**changes))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\xc1", "not valid MessagePack"),
        (b"", "not valid MessagePack"),
        (msgpack.packb("text"), "not a map"),
        (msgpack.packb({1: 2}), "not valid MessagePack"),  # map keys must be strings
    ],
)
def test_undecodable_payloads_are_protocol_errors(payload: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        CODEC.decode(payload)


def test_the_producer_messages_check_nested_values() -> None:
    """Element types and the settings' TypedDicts are checked, not only the top level."""
    batch = {"t": "attribute_batch", "producer_id": 1, "seq": 0, "provider": "p", "model": "m"}
    with pytest.raises(ProtocolError, match=r"attribute_batch\.candidates\[1\]"):
        decode_message(msgpack.packb({**batch, "candidates": ["a", 7]}))
    with pytest.raises(ProtocolError, match=r"attribute_batch\.keys\[0\]"):
        decode_message(msgpack.packb({**batch, "candidates": ["a"], "keys": ["k"]}))
    assert isinstance(decode_message(msgpack.packb({**batch, "candidates": []})), AttributeBatch)
    start = {"t": "start_topic", "run_id": "r", "topic": "t", "request_size": 1,
             "iterations": None, "provider": "test"}  # fmt: skip
    bad = {**start, "settings": {"levers": {"avoid_budget": "lots"}}}
    with pytest.raises(ProtocolError, match=r"start_topic\.settings\.levers\.avoid_budget"):
        decode_message(msgpack.packb(bad))
    good = decode_message(msgpack.packb({**start, "settings": {"levers": {"prefilter": True}}}))
    assert isinstance(good, StartTopic) and good.settings == {"levers": {"prefilter": True}}


def test_declarations_the_codec_cannot_check_are_refused_at_import() -> None:
    @dataclass
    class Odd(Message):
        TYPE: ClassVar[str] = "odd"
        value: set[int]

    with pytest.raises(TypeError, match="cannot check"):
        Codec("test", [Odd])
    with pytest.raises(TypeError, match="unique"):
        Codec("test", [_Sample, _Sample])
