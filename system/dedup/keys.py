"""64-bit keys of normalized attributes (xxHash3-64 of the UTF-8 bytes)."""

from __future__ import annotations

import xxhash

from system.dedup.normalize import normalize

__all__ = ["attribute_key", "key_of"]


def attribute_key(normalized: str) -> int:
    """The key of an already normalized text: an unsigned 64-bit int."""
    return xxhash.xxh3_64_intdigest(normalized.encode("utf-8"))


def key_of(text: str) -> int:
    """The key of any candidate text: ``attribute_key(normalize(text))``."""
    return attribute_key(normalize(text))
