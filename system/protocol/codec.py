"""One way to declare, encode and validate a message, for every message family.

A message is a dataclass deriving from :class:`Message` with a ``TYPE``
class variable; a :class:`Codec` is built once per family (the producer
protocol, the control channel) from its classes. The fields' annotations are
resolved with ``typing.get_type_hints`` and compiled into one check per field
at import time, so a decoded message has the types it declares, down to list
elements, map values, ``Literal`` values and the keys a ``TypedDict`` names
(other keys of a TypedDict pass: settings may be added without a new
protocol version). A frame that does not match is a :class:`ProtocolError`
naming the message, the field and what was expected.

On the wire a message is a MessagePack map: ``t`` (the type), ``tc`` (the
sender's W3C trace context) and the fields. A field whose default is None is
left out while it is None, so a peer that predates it still decodes the
frame; a field without a default must be present.

Why not pydantic (installed with FastAPI) or msgspec: producers import this
module at start-up, 64 at a time, and a hundred lines of checks over the
handful of types the messages use cost nothing to import and need no new
dependency.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar, Union, get_args, get_origin

import msgpack

from system.protocol.framing import FrameReader, encode_frame


class ProtocolError(ValueError):
    """A frame decoded but is not a valid message."""


@dataclass
class Message:
    """Base of every message: its type key and the sender's trace context."""

    TYPE: ClassVar[str] = ""
    trace_context: dict[str, str] = field(default_factory=dict, kw_only=True)


M = TypeVar("M", bound=Message)

#: checks one value; raises ProtocolError naming ``path``
Check = Callable[[str, object], None]

#: a lone surrogate (a str can hold one; UTF-8 cannot)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _fail(path: str, value: object, expected: str) -> typing.NoReturn:
    raise ProtocolError(f"{path}: unexpected type {type(value).__name__} (expected {expected})")


def _instance(kind: type, name: str, *, allow_int: bool = False) -> Check:
    accepted: tuple[type, ...] = (kind, int) if allow_int else (kind,)

    def check(path: str, value: object) -> None:
        # bool is an int to Python, never to the protocol
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, accepted):
            _fail(path, value, name)

    return check


#: the runtime types MessagePack decodes each scalar annotation to
_EXACT: dict[Any, tuple[type, ...]] = {
    int: (int,),
    str: (str,),
    bytes: (bytes,),
    bool: (bool,),
    float: (float, int),
}


def _any(path: str, value: object) -> None:
    pass


def compile_check(annotation: Any) -> Check:
    """The check for values of ``annotation`` (a resolved type hint)."""
    if annotation is Any or annotation is object:
        return _any
    if annotation is type(None):
        return _instance(type(None), "nil")
    if annotation is float:
        return _instance(float, "float", allow_int=True)
    if annotation in (int, str, bytes, bool):
        return _instance(annotation, annotation.__name__)
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = get_args(annotation)
        kinds = tuple({type(v) for v in allowed})

        def literal(path: str, value: object) -> None:
            if type(value) not in kinds:
                _fail(path, value, " or ".join(k.__name__ for k in kinds))
            if value not in allowed:
                raise ProtocolError(f"{path}: unexpected value {value!r} (one of {list(allowed)})")

        return literal
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        others = [arg for arg in args if arg is not type(None)]
        if len(others) == 1:  # X | None: X's own error says more than "expected X | None"
            inner = compile_check(others[0])

            def optional(path: str, value: object) -> None:
                if value is not None:
                    inner(path, value)

            return optional
        options = [compile_check(arg) for arg in args]

        def union(path: str, value: object) -> None:
            for option in options:
                try:
                    option(path, value)
                    return
                except ProtocolError:
                    continue
            _fail(path, value, _describe(annotation))

        return union
    if origin is list:
        (item_type,) = get_args(annotation) or (Any,)
        item = compile_check(item_type)

        # the fast path for the long lists (candidates, keys): exact scalar types
        exact = _EXACT.get(item_type, ())

        def sequence(path: str, value: object) -> None:
            if not isinstance(value, list):
                _fail(path, value, "list")
            if item is _any or (exact and all(type(e) in exact for e in value)):
                return
            for i, element in enumerate(value):
                item(f"{path}[{i}]", element)

        return sequence
    if origin is dict:
        key_type, value_type = get_args(annotation) or (Any, Any)
        key, val = compile_check(key_type), compile_check(value_type)

        def mapping(path: str, value: object) -> None:
            if not isinstance(value, dict):
                _fail(path, value, "map")
            for k, v in value.items():
                key(f"{path} key", k)
                val(f"{path}[{k!r}]", v)

        return mapping
    if typing.is_typeddict(annotation):
        return _typed_dict(annotation)
    raise TypeError(f"the codec cannot check values of {annotation!r}")


def _typed_dict(cls: Any) -> Check:
    hints = typing.get_type_hints(cls)
    checks = {name: compile_check(hint) for name, hint in hints.items()}
    required = frozenset(cls.__required_keys__)

    def check(path: str, value: object) -> None:
        if not isinstance(value, dict):
            _fail(path, value, "map")
        missing = required - value.keys()
        if missing:
            raise ProtocolError(f"{path}: missing keys {sorted(missing)}")
        for name, item in value.items():
            known = checks.get(name) if isinstance(name, str) else None
            if known is not None:  # a key this side does not know is a newer setting
                known(f"{path}.{name}", item)

    return check


def _describe(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


@dataclass(frozen=True)
class _Field:
    name: str
    check: Check
    required: bool
    omit_none: bool  # default None: left out of the frame while None


class Codec(Generic[M]):
    """Encodes and decodes the messages of one family (one ``t`` namespace)."""

    def __init__(self, family: str, classes: Iterable[type[M]]) -> None:
        self.family = family
        self._classes: dict[str, type[M]] = {}
        self._fields: dict[str, tuple[_Field, ...]] = {}
        for cls in classes:
            if not cls.TYPE or cls.TYPE in self._classes:
                raise TypeError(f"{cls.__name__}: TYPE must be set and unique in {family}")
            hints = typing.get_type_hints(cls)
            self._classes[cls.TYPE] = cls
            self._fields[cls.TYPE] = tuple(
                _Field(
                    f.name,
                    compile_check(hints[f.name]),
                    required=f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING,
                    omit_none=f.default is None,
                )
                for f in dataclasses.fields(cls)
                if f.name != "trace_context"
            )

    def encode(self, message: M) -> bytes:
        body: dict[str, Any] = {"t": message.TYPE, "tc": message.trace_context}
        for f in self._fields[message.TYPE]:
            value = getattr(message, f.name)
            if not (value is None and f.omit_none):
                body[f.name] = value
        try:
            return msgpack.packb(body, use_bin_type=True)
        except UnicodeEncodeError:  # a lone surrogate from a model's answer: never kill the sender
            return msgpack.packb(_scrub(body), use_bin_type=True)

    def decode(self, payload: bytes) -> M:
        """Decode one frame payload; ProtocolError for anything malformed."""
        kind, body, trace_context = _unpack(payload)
        cls = self._classes.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ProtocolError(f"unknown message type {kind!r} ({self.family} protocol)")
        fields = self._fields[cls.TYPE]
        unknown = body.keys() - {f.name for f in fields}
        if unknown:
            raise ProtocolError(f"{cls.TYPE}: unknown fields {sorted(unknown)}")
        missing = [f.name for f in fields if f.required and f.name not in body]
        if missing:
            raise ProtocolError(f"{cls.TYPE}: missing fields {missing}")
        for f in fields:
            if f.name in body:
                f.check(f"{cls.TYPE}.{f.name}", body[f.name])
        return cls(**body, trace_context=trace_context)

    def frame(self, message: M) -> bytes:
        """``message`` as a whole frame: length prefix and payload."""
        return encode_frame(self.encode(message))

    async def read(self, frames: FrameReader) -> M | None:
        """The next message, or None on a clean end of stream."""
        payload = await frames.read_frame()
        return None if payload is None else self.decode(payload)

    async def write(self, writer: asyncio.StreamWriter, message: M) -> None:
        writer.write(self.frame(message))
        await writer.drain()


def _unpack(payload: bytes) -> tuple[object, dict[str, Any], dict[str, str]]:
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


def _scrub(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value
