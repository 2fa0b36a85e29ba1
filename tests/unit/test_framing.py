import asyncio
import struct

import msgpack
import pytest

from system.protocol import (
    AttributeBatch,
    FrameError,
    FrameReader,
    Hello,
    ProducerStatus,
    ProtocolError,
    StartTopic,
    Stop,
    UpdateConfiguration,
    decode_message,
    encode_frame,
    encode_message,
)


def _reader(data: bytes) -> FrameReader:
    stream = asyncio.StreamReader()
    stream.feed_data(data)
    stream.feed_eof()
    return FrameReader(stream, max_frame=1024)


@pytest.mark.parametrize(
    "message",
    [
        Hello(producer_id=1, token="t", pid=42),
        StartTopic(
            run_id="r",
            topic="Paris",
            request_size=60,
            iterations=None,
            provider="test",
            settings={"start_seq": 3},
        ),
        UpdateConfiguration(partition="A-C", new_uniques=["a"]),
        Stop(reason="done"),
        AttributeBatch(
            producer_id=2,
            seq=7,
            candidates=["x", "y"],
            provider="simulated",
            model="m",
            input_tokens=5,
            output_tokens=9,
            latency_ms=1.5,
        ),
        ProducerStatus(producer_id=2, state="finished", iterations_done=10),
    ],
)
def test_every_message_round_trips_with_trace_context(message):
    message.trace_context = {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    assert decode_message(encode_message(message)) == message


def test_hello_repr_hides_the_token():
    assert "secret" not in repr(Hello(producer_id=1, token="secret", pid=1))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\xc1garbage", "MessagePack"),
        (msgpack.packb([1, 2]), "not a map"),
        (msgpack.packb({"t": "nope"}), "unknown message type"),
        (msgpack.packb({"t": "stop", "reason": 5}), "unexpected type"),
        (msgpack.packb({"t": "stop", "bogus": 1}), "unknown fields"),
        (msgpack.packb({"t": "hello", "producer_id": 1}), "hello"),
        (msgpack.packb({"t": "stop", "tc": {"a": 1}}), "trace context"),
        (msgpack.packb({"t": "hello", "producer_id": True, "token": "x", "pid": 1}), "type"),
        # fields typed by a TypedDict or a Literal alias are still checked at run time
        (
            msgpack.packb(
                {"t": "start_topic", "run_id": "r", "topic": "t", "request_size": 1,
                 "iterations": 1, "provider": "test", "settings": [1]}
            ),
            "settings: unexpected type",
        ),
        (
            msgpack.packb({"t": "producer_status", "producer_id": 1, "state": 3}),
            "state: unexpected type",
        ),
    ],
)
def test_malformed_payloads_raise_protocol_error(payload, match):
    with pytest.raises(ProtocolError, match=match):
        decode_message(payload)


def test_frames_are_read_whole_and_in_order():
    async def scenario():
        frames = _reader(encode_frame(b"one") + encode_frame(b"") + encode_frame(b"three"))
        return [await frames.read_frame() for _ in range(4)]

    assert asyncio.run(scenario()) == [b"one", b"", b"three", None]


def test_oversized_length_prefix_is_refused_before_reading():
    async def scenario():
        await _reader(struct.pack(">I", 10_000_000) + b"x").read_frame()

    with pytest.raises(FrameError, match="exceeds"):
        asyncio.run(scenario())


@pytest.mark.parametrize("data", [b"\x00\x00", struct.pack(">I", 10) + b"short"])
def test_truncated_frames_raise(data):
    async def scenario():
        await _reader(data).read_frame()

    with pytest.raises(FrameError):
        asyncio.run(scenario())


def test_attribute_batch_repeat_keys_round_trip_and_are_checked() -> None:
    import msgpack
    import pytest as _pytest

    from system.levers.prefilter import pack_keys
    from system.protocol import AttributeBatch, ProtocolError, decode_message, encode_message

    batch = AttributeBatch(
        producer_id=1, seq=0, candidates=["a"], provider="p", model="m",
        repeat_keys=pack_keys([1, 2**64 - 1]),
    )  # fmt: skip
    assert decode_message(encode_message(batch)).repeat_keys == batch.repeat_keys
    plain = AttributeBatch(producer_id=1, seq=0, candidates=[], provider="p", model="m")
    assert b"repeat_keys" not in encode_message(plain)  # absent: older peers still decode
    bad = msgpack.packb(
        {"t": "attribute_batch", "tc": {}, "producer_id": 1, "seq": 0, "candidates": [],
         "provider": "p", "model": "m", "repeat_keys": [1, 2]}
    )  # fmt: skip
    with _pytest.raises(ProtocolError, match="repeat_keys"):
        decode_message(bad)
