"""Length-prefixed framing: ``>I`` payload length, then the payload.

Frames larger than ``max_frame`` are refused before any payload byte is
read, so a hostile or broken peer cannot make the reader allocate memory.
"""

from __future__ import annotations

import asyncio
import struct

DEFAULT_MAX_FRAME = 8 * 1024 * 1024
_HEADER = struct.Struct(">I")


class FrameError(ConnectionError):
    """The byte stream is not a valid sequence of frames (oversized or truncated)."""


def encode_frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


class FrameReader:
    """Reads whole frames from an asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._reader = reader
        self.max_frame = max_frame

    async def read_frame(self) -> bytes | None:
        """Return the next payload, or None on a clean end of stream."""
        try:
            header = await self._reader.readexactly(_HEADER.size)
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return None
            raise FrameError("stream ended inside a frame header") from exc
        (length,) = _HEADER.unpack(header)
        if length > self.max_frame:
            raise FrameError(f"frame of {length} bytes exceeds the {self.max_frame}-byte limit")
        try:
            return await self._reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise FrameError("stream ended inside a frame") from exc

