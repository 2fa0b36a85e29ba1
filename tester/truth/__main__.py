"""``python -m tester.truth``: score an output folder against a truth set.

    python -m tester.truth list
    python -m tester.truth score output/us-states            # the set for run.json's topic
    python -m tester.truth score output/x --set chemical-elements --json score.json

Exit codes: 0 scored, 2 bad input (no such folder or set, unreadable run.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tester.truth.score import score_output
from tester.truth.sets import TruthSetError, available, load


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tester.truth", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the shipped truth sets")
    s = sub.add_parser("score", help="score OUTPUT_DIR (attributes.txt + run.json)")
    s.add_argument("output_dir", type=Path)
    s.add_argument("--set", dest="truth_set", help="set name or JSON path (default: by topic)")
    s.add_argument("--json", type=Path, help="also write the score as JSON here")
    s.add_argument("--show", type=int, default=10, help="invalid/duplicate lines to print")
    args = p.parse_args(argv)
    try:
        if args.command == "list":
            for name in available():
                truth = load(name)
                print(f"{name:<28} {truth.size:>4} members  topic {truth.topic!r}")
            return 0
        chosen = load(args.truth_set) if args.truth_set else None
        score = score_output(args.output_dir, chosen)
    except TruthSetError as exc:
        print(f"tester.truth: error: {exc}", file=sys.stderr)
        return 2
    print(score.summary())
    for label, lines in (("invalid", score.invalid_lines), ("duplicate", score.duplicate_lines)):
        for line in lines[: args.show]:
            print(f"  {label}: {line}")
    if args.json:
        args.json.write_text(json.dumps(score.to_dict(samples=10**6), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
