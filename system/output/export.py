"""``export-attributes``: the attributes of an output folder with enough support.

    export-attributes output/paris-attractions --min-support 2 > trusted.txt
    export-attributes output/paris-attractions --min-support 3 --jsonl

Reads attributes.jsonl (the evidence beside attributes.txt) and prints, in
the file's order, the items seen in at least N requests: their display form
(one per line, like attributes.txt) or, with ``--jsonl``, their records.
Works on a finished run and on a running one (the counts are those of the
file's last rewrite). Exit 2 when the folder has no attributes.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from system.output.attributes_jsonl import read_records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="export-attributes", description=__doc__.splitlines()[0])
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
    if not path.is_file():
        print(f"export-attributes: {path} not found", file=sys.stderr)
        return 2
    out = sys.stdout
    for record in read_records(path):
        sightings = record.get("sightings")
        if not isinstance(sightings, int) or sightings < args.min_support:
            continue
        if args.jsonl:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(str(record.get("display", "")) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
