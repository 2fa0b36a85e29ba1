"""attributes.txt and attributes.jsonl on resume (issue 21 items 16 and 20): real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from system.dedup.index import DedupIndex
from system.output import attributes_jsonl
from system.output.attributes_file import AttributesFile
from system.output.attributes_jsonl import SupportFile, line_key


def _record(display: str, sightings: int, key: int | None = None) -> str:
    key = line_key(display) if key is None else key
    return json.dumps(
        {
            "display": display,
            "key": f"{key:016x}",
            "sightings": sightings,
            "producers": 2,
            "providers": 1,
            "first_seen": "2026-12-01T10:00:00.000+00:00",
            "last_seen": "2026-12-01T10:05:00.000+00:00",
        }
    )


def _resume(out: Path) -> tuple[list[str], DedupIndex, SupportFile]:
    txt = AttributesFile(out / "attributes.txt")
    existing = txt.open()
    index = DedupIndex()
    support = SupportFile(out / "attributes.jsonl")
    assert support.open(existing, index) == len(set(map(line_key, existing)))
    txt.close()
    return existing, index, support


def _displays(out: Path) -> list[str]:
    lines = (out / "attributes.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["display"] for line in lines]


def _sightings(index: DedupIndex, display: str) -> int:
    found = index.sightings.get(line_key(display))
    assert found is not None
    return found[1]


def test_an_aligned_jsonl_is_not_rewritten_on_resume(tmp_path: Path) -> None:
    """Item 20: the file the last run left is read, not rewritten (same inode, same
    bytes); a torn last record is cut off and the lines without one get one."""
    names = [f"Harbour {i}" for i in range(200)]
    (tmp_path / "attributes.txt").write_text("".join(n + "\n" for n in names))
    body = "".join(_record(n, i % 7 + 1) + "\n" for i, n in enumerate(names[:150]))
    jsonl = tmp_path / "attributes.jsonl"
    jsonl.write_text(body + _record(names[150], 3)[:30])  # a torn record: a crash mid-write
    inode = jsonl.stat().st_ino
    existing, index, support = _resume(tmp_path)
    assert existing == names and not support.rebuilt
    assert jsonl.stat().st_ino == inode
    assert jsonl.read_text().startswith(body)
    assert _displays(tmp_path) == names
    assert _sightings(index, "Harbour 3") == 4 and _sightings(index, "Harbour 160") == 0
    support.close(index)
    assert _displays(tmp_path) == names


def test_an_out_of_step_jsonl_is_rebuilt_with_the_counts_by_key(tmp_path: Path) -> None:
    (tmp_path / "attributes.txt").write_text("Louvre\nOrsay\nRodin\n")
    (tmp_path / "attributes.jsonl").write_text(
        _record("Rodin", 5)
        + "\nnot json\n"
        + _record("Louvre", 2)
        + "\n"
        + _record("Gone", 9)
        + "\n"
    )
    existing, index, support = _resume(tmp_path)
    assert support.rebuilt and existing == ["Louvre", "Orsay", "Rodin"]
    assert _displays(tmp_path) == existing
    assert [_sightings(index, d) for d in existing] == [2, 0, 5]
    assert not (tmp_path / "attributes.jsonl.tmp").exists()


def test_a_rebuild_keeps_the_first_seen_of_the_records_before_the_hand_edit(
    tmp_path: Path,
) -> None:
    """Records read in step before the line that forces a rebuild keep their first_seen
    (not the resume's time)."""
    (tmp_path / "attributes.txt").write_text("Louvre\nOrsay\n")
    (tmp_path / "attributes.jsonl").write_text(
        _record("Louvre", 2) + "\n" + _record("Orsay", 3) + "\nnot json\n"
    )
    _, index, support = _resume(tmp_path)
    assert support.rebuilt
    lines = (tmp_path / "attributes.jsonl").read_text(encoding="utf-8").splitlines()
    firsts = [json.loads(line)["first_seen"] for line in lines]
    assert firsts == ["2026-12-01T10:00:00.000+00:00"] * 2
    support.close(index)


def test_a_failed_append_leaves_nothing_in_the_newest_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose records could not be written is cut back: the live views'
    newest attributes do not show it either."""
    index = DedupIndex()
    support = SupportFile(tmp_path / "attributes.jsonl")
    support.open([], index)
    support.append(["Louvre"], index)

    def disk_full(fd: int, data: bytes, size: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(attributes_jsonl, "append_whole", disk_full)
    with pytest.raises(OSError):
        support.append(["Orsay"], index)
    monkeypatch.undo()
    assert [row[0] for row in support.recent_support(index)] == ["Louvre"]
    support.close(index)
    assert _displays(tmp_path) == ["Louvre"]


def test_keys_of_another_version_are_recomputed(tmp_path: Path) -> None:
    """Keys are read back from the records; a sampled one that is not the line's own
    key (another normalizer) makes resume compute every key from its line."""
    (tmp_path / "attributes.txt").write_text("Louvre\nOrsay\n")
    (tmp_path / "attributes.jsonl").write_text(
        _record("Louvre", 2, key=12345) + "\n" + _record("Orsay", 3, key=678) + "\n"
    )
    _, index, support = _resume(tmp_path)
    assert support.rebuilt
    assert index.sightings.get(12345) is None and index.sightings.get(678) is None
    assert "Louvre" in index and "Orsay" in index
    # the counts follow their display
    assert _sightings(index, "Louvre") == 2 and _sightings(index, "Orsay") == 3
    assert _displays(tmp_path) == ["Louvre", "Orsay"]


def test_a_blank_line_of_a_hand_edit_keeps_the_files_line_for_line(tmp_path: Path) -> None:
    """Item 16: a hand-edited attributes.txt with a blank line, CRLF ends and doubled
    spaces is rewritten in one-line form on open, so line N is record N again."""
    (tmp_path / "attributes.txt").write_bytes(b"Louvre\r\n\nMusee  d'Orsay\n   \nRodin\n")
    (tmp_path / "attributes.jsonl").write_text(_record("Louvre", 4) + "\n")
    existing, index, _ = _resume(tmp_path)
    assert (tmp_path / "attributes.txt").read_bytes() == b"Louvre\nMusee d'Orsay\nRodin\n"
    assert existing == ["Louvre", "Musee d'Orsay", "Rodin"]
    assert _displays(tmp_path) == existing
    assert _sightings(index, "Louvre") == 4
    assert not (tmp_path / "attributes.txt.tmp").exists()
