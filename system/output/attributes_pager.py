"""Read pages of attributes.txt without loading it: ``page(offset, limit)``.

The file is append-only, so a sparse index of byte offsets (one every
``STRIDE`` lines, 8 bytes each) built as pages are read stays valid for the
life of the file and makes any page cost at most ``STRIDE`` skipped lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

STRIDE = 1024


class AttributesPager:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets: list[int] = [0]  # byte offset of line i * STRIDE

    def page(self, offset: int, limit: int) -> list[str]:
        """Lines ``offset .. offset+limit-1`` (fewer at the end of the file)."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        if limit == 0 or not self.path.exists():
            return []
        slot = min(offset // STRIDE, len(self._offsets) - 1)
        line_no = slot * STRIDE
        items: list[str] = []
        with self.path.open("rb") as fh:
            fh.seek(self._offsets[slot])
            while len(items) < limit:
                position = fh.tell()
                raw = fh.readline()
                if not raw.endswith(b"\n"):
                    break  # end of file, or a line still being written
                if line_no % STRIDE == 0 and line_no // STRIDE == len(self._offsets):
                    self._offsets.append(position)
                if line_no >= offset:
                    items.append(raw[:-1].decode("utf-8", errors="replace"))
                line_no += 1
        return items

    def iter_all(self, chunk: int = 5000) -> Iterator[list[str]]:
        """Every line, in chunks of ``chunk`` lines (for downloads)."""
        offset = 0
        while True:
            items = self.page(offset, chunk)
            if not items:
                return
            yield items
            offset += len(items)
