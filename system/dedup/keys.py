"""64-bit keys of normalized attributes (xxHash3)."""

from __future__ import annotations

import xxhash

from system.dedup.normalize import normalize


def attribute_key(normalized: str) -> int:
    return xxhash.xxh3_64_intdigest(normalized.encode("utf-8"))


def key_of(text: str) -> int:
    return attribute_key(normalize(text))
