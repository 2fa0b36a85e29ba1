"""``export-attributes``: the attributes of an output folder with enough support.

    export-attributes output/paris-attractions --min-support 2 > trusted.txt
    export-attributes output/paris-attractions --min-support 3 --jsonl

Reads attributes.jsonl (the evidence beside attributes.txt) and prints, in
the file's order, the items seen in at least N requests: their display form
(one per line, like attributes.txt) or, with ``--jsonl``, their records.
Works on a finished run and on a running one (the counts are those of the
file's last rewrite). Lines that are not a valid record (a torn last line,
a hand edit: see ``parse_record``) are skipped and counted on stderr. Exit 2
when the folder has no attributes.jsonl, it is not a regular file or cannot
be read; exit 0 when the reader of the output goes away (``| head``).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from system.output.attributes_jsonl import parse_record

PROG = "export-attributes"


class _OutputFailed(Exception):
    """Writing the output failed (not the reader going away: that is BrokenPipeError)."""


def _export(path: Path, min_support: int, as_jsonl: bool, out: BinaryIO) -> int:
    """Write the kept items to ``out``; return how many lines were skipped as bad."""
    skipped = 0
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            record = parse_record(raw)
            if record is None:
                skipped += 1
                continue
            if record["sightings"] < min_support:
                continue
            text = json.dumps(record, ensure_ascii=False) if as_jsonl else record["display"]
            try:
                data = (text + "\n").encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate in another field of the record
                skipped += 1
                continue
            _write(out.write, data)
    _write(lambda _: out.flush(), b"")
    return skipped


def _write(write: Callable[[bytes], object], data: bytes) -> None:
    try:
        write(data)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _OutputFailed(exc.strerror or str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("output", type=Path, help="the run's output folder (or its attributes.jsonl)")
    p.add_argument(
        "--min-support",
        type=int,
        default=1,
        metavar="N",
        help="only items seen in at least N requests (default 1: everything counted)",
    )
    p.add_argument("--jsonl", action="store_true", help="print the records, not the lines")
    args = p.parse_args(argv)
    if args.min_support < 0:
        p.error("--min-support must be at least 0")
    path = args.output if args.output.suffix == ".jsonl" else args.output / "attributes.jsonl"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        print(f"{PROG}: {path} not found", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not stat.S_ISREG(mode):  # a fifo would block, /dev/zero never ends
        print(f"{PROG}: {path} is not a regular file", file=sys.stderr)
        return 2
    try:
        skipped = _export(path, args.min_support, args.jsonl, sys.stdout.buffer)
    except _OutputFailed as exc:
        print(f"{PROG}: cannot write the output: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader has what it wanted (| head): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail
        return 0
    except OSError as exc:
        print(f"{PROG}: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if skipped:
        message = f"{PROG}: skipped {skipped} line(s) of {path} that are not valid records"
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
