"""Statistics of the real-answer corpus and the parser's accuracy on its labelled lines.

    .venv/bin/python scripts/corpus_stats.py                  # this checkout's parser
    .venv/bin/python scripts/corpus_stats.py --parser-rev main  # the parser of a git revision
    .venv/bin/python scripts/corpus_stats.py --json           # machine-readable

The noise shares (what a line of a real answer looks like) are what
``system/providers/simulated.py``'s noise is calibrated to; the accuracy is
measured on ``tests/data/real_corpus/labels.jsonl`` (hand-labelled lines, see
its README): a line counts as an item when it has at least one expected item,
and the parser "keeps" it when it emits at least one candidate. Item
precision/recall compare the emitted candidates with the expected displays
(as multisets).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from system.dedup.normalize import normalize  # noqa: E402
from system.producer.parse import PromptContext, parse_response  # noqa: E402

CORPUS = ROOT / "tests/data/real_corpus"

_NUMBERED = re.compile(r"^\s*\(?\d+[.)]\s+")
_BULLET = re.compile(r"^\s*[-*•+]\s+")
_BOLD = re.compile(r"\*\*[^*]+\*\*|__[^_]+__")
_HEADING = re.compile(r"^\s*#{1,6}\s")
_REMARK = re.compile(r"\S\s*\([^()]*\)\s*[.,;]?\s*$")
_DESCRIPTION = re.compile(r"\S(?::\s|\s[-–—]\s)\S")
_LETTER_RANGE = re.compile(r"^\W*(?:\d+[.)]\s*)?[A-Z]\s*(?:-|–|to)\s*[A-Z]\b")


def load_answers() -> list[dict]:
    path = CORPUS / "answers.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def load_labels() -> list[dict]:
    path = CORPUS / "labels.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def context_of(record: dict) -> PromptContext:
    return PromptContext(record["params"]["topic"], record["params"]["partition"])


def line_shapes(answers: list[dict]) -> dict[str, float]:
    """Shares of non-empty answer lines with each kind of noise (a line can have several)."""
    counts: Counter[str] = Counter()
    total = 0
    for record in answers:
        topic_key = normalize(record["params"]["topic"])
        partition = record["params"]["partition"]
        instruction = ("you are enumerating", "topic:", "focus on this part", "list 30", "do not")
        for raw in record["answer"].splitlines():
            line = raw.strip()
            if not line:
                continue
            total += 1
            key = normalize(line)
            words = len(line.split())
            counts["numbered"] += bool(_NUMBERED.match(line))
            counts["bulleted"] += bool(_BULLET.match(line))
            counts["bold"] += bool(_BOLD.search(line))
            counts["heading"] += bool(_HEADING.match(line))
            counts["table_row"] += line.startswith("|")
            counts["remark"] += bool(_REMARK.search(line))
            counts["description"] += bool(_DESCRIPTION.search(line))
            counts["multi_item"] += line.count(", ") >= 1 and words <= 12
            counts["ends_with_colon"] += line.rstrip("*").endswith(":")
            counts["sentence"] += words >= 10 or (words >= 6 and line[-1] in ".!?")
            counts["topic_echo"] += key == topic_key or topic_key in key
            counts["instruction_echo"] += key.startswith(instruction)
            counts["partition_echo"] += bool(partition) and partition in line
            counts["letter_range"] += bool(_LETTER_RANGE.match(line))
            counts["no_letter"] += not any(ch.isalpha() for ch in line)
            counts["leading_article"] += bool(
                re.match(r"^(?:\d+[.)]\s*|[-*]\s*)?(?:the|a|an)\s", line.casefold())
            )
    shares = {name: round(count / total, 4) for name, count in sorted(counts.items())}
    shares["lines"] = total
    return shares


def answer_stats(answers: list[dict]) -> dict[str, object]:
    lines = [len([x for x in r["answer"].splitlines() if x.strip()]) for r in answers]
    topics = Counter(r["params"]["topic"] for r in answers)
    return {
        "answers": len(answers),
        "topics": dict(topics),
        "with_partition": sum(1 for r in answers if r["params"]["partition"]),
        "with_avoid": sum(1 for r in answers if r["params"]["avoid"]),
        "temperatures": dict(Counter(str(r["params"]["temperature"]) for r in answers)),
        "finish_length": sum(1 for r in answers if r.get("finish_reason") == "length"),
        "mean_lines": round(sum(lines) / max(1, len(lines)), 2),
        "mean_output_tokens": round(
            sum(r["usage"].get("completion_tokens", 0) for r in answers) / max(1, len(answers)), 1
        ),
        "candidates_per_answer": round(
            sum(len(parse_response(r["answer"], context=context_of(r))) for r in answers)
            / max(1, len(answers)),
            2,
        ),
        "alias_variants": alias_variants(answers),
    }


def alias_variants(answers: list[dict]) -> dict[str, float]:
    """How often one entity comes back in several forms: 'The X' / 'X', 'X (remark)' / 'X'."""
    forms: dict[str, set[str]] = {}
    for record in answers:
        for item in parse_response(record["answer"], context=context_of(record)):
            forms.setdefault(normalize(item), set()).add(item)
    keys = len(forms)
    several = sum(1 for f in forms.values() if len(f) > 1)
    return {"keys": keys, "keys_with_several_displays": several}


def accuracy(parse: Callable[[str, dict], list[str]], labels: list[dict], answers: list[dict]):
    tp = fp = fn = tn = 0
    item_hits = emitted = expected = exact = 0
    for label in labels:
        got = parse(label["text"], answers[label["answer"]])
        want = label["items"]
        if want and got:
            tp += 1
        elif got:
            fp += 1
        elif want:
            fn += 1
        else:
            tn += 1
        exact += got == want
        overlap = Counter(got) & Counter(want)
        item_hits += sum(overlap.values())
        emitted += len(got)
        expected += len(want)
    return {
        "lines": len(labels),
        "item_lines": tp + fn,
        "line_precision": round(tp / max(1, tp + fp), 4),
        "line_recall": round(tp / max(1, tp + fn), 4),
        "exact_lines": round(exact / max(1, len(labels)), 4),
        "item_precision": round(item_hits / max(1, emitted), 4),
        "item_recall": round(item_hits / max(1, expected), 4),
    }


def current_parser(text: str, record: dict) -> list[str]:
    return parse_response(text, context=context_of(record))


def parse_module_at(rev: str) -> ModuleType:
    """``system/producer/parse.py`` of a git revision, imported as a module of its own."""
    source = subprocess.run(
        ["git", "show", f"{rev}:system/producer/parse.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    safe = re.sub(r"\W", "_", rev)
    path = Path(tempfile.mkdtemp()) / f"parse_{safe}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def parser_at(rev: str) -> Callable[[str, dict], list[str]]:
    """``parse_response`` of ``system/producer/parse.py`` at a git revision (no context there
    if that revision's parser takes none)."""
    module = parse_module_at(rev)
    takes_context = "context" in inspect.signature(module.parse_response).parameters

    def parse(text: str, record: dict) -> list[str]:
        if takes_context:
            return module.parse_response(text, context=module.PromptContext(
                record["params"]["topic"], record["params"]["partition"]))  # fmt: skip
        return module.parse_response(text)

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parser-rev", help="measure the parser of this git revision instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    answers = load_answers()
    parse = parser_at(args.parser_rev) if args.parser_rev else current_parser
    result = {
        "corpus": answer_stats(answers),
        "line_shapes": line_shapes(answers),
        "accuracy": accuracy(parse, load_labels(), answers),
        "calibration": calibration(answers),
    }
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for section, values in result.items():
            print(f"[{section}]")
            for name, value in values.items():
                print(f"  {name}: {value}")
    return 0


def _classify_noise(raw: str, echo: tuple[str, ...]) -> str:
    """Which contract rule drops a noise line (the first that applies)."""
    from system.dedup.normalize import clean_display
    from system.producer import parse as p

    line = p.clean_unicode(raw).strip()
    while (m := p._NUMBERED.match(line)) is not None:
        line = line[m.end() :]
    if len(line) > p.MAX_LINE:
        return "long_line"
    if p._FENCE.match(line) or p._HEADING.match(line):
        return "markdown"
    bare = clean_display(line)
    key = p._key(bare) if bare else ""
    if p._INSTRUCTION.match(key):
        return "instruction_echo"
    if key and key in echo:
        return "topic_or_label_echo"
    if p._LETTER_RANGE.match(bare):
        return "letter_range"
    if p.is_commentary(line) or p._COMMENTARY.match(bare):
        return "commentary"
    if not bare or p._no_name(bare):
        return "no_letter"
    return "sentence"


def calibration(answers: list[dict]) -> dict[str, float]:
    """What ``system.providers.simulated`` reproduces: noise lines per answer, by kind,
    and the shares of item lines that carry a remark, a description, several items or
    a leading article (measured with this checkout's parser)."""
    from system.producer import parse as p

    noise: Counter[str] = Counter()
    item_lines = remark = description = multi = article = 0
    for record in answers:
        context = context_of(record)
        echo = p._echo_keys(context.topic, context.partition)
        for raw in record["answer"].splitlines():
            if not raw.strip():
                continue
            items = parse_response(raw, context=context)
            if not items:
                kind = _classify_noise(raw, echo)
                noise[kind] += 1
                if kind == "letter_range":
                    noise["letter_range_with_partition"] += bool(context.partition)
                continue
            item_lines += 1
            line = p.clean_unicode(raw).strip()
            while (m := p._NUMBERED.match(line)) is not None:
                line = line[m.end() :]
            multi += len(items) > 1
            remark += len(items) == 1 and line.rstrip(" .;,").endswith(")")
            description += len(items) == 1 and not line.rstrip(" .;,").endswith(")") and (
                len(items[0]) < len(line.strip(" -*•.;,\"'")) - 1)  # fmt: skip
            article += items[0].casefold().startswith(("the ", "a ", "an "))
    n = len(answers)
    partitioned = sum(1 for r in answers if r["params"]["partition"])
    ranges = noise.pop("letter_range_with_partition", 0)
    out = {f"noise_per_answer.{kind}": round(count / n, 3) for kind, count in sorted(noise.items())}
    out["letter_range_per_partitioned_answer"] = round(ranges / max(1, partitioned), 3)
    out["letter_range_per_unpartitioned_answer"] = round(
        (noise["letter_range"] - ranges) / max(1, n - partitioned), 3
    )
    out.update({
        "item_lines_per_answer": round(item_lines / n, 3),
        "item_line.remark": round(remark / item_lines, 3),
        "item_line.description": round(description / item_lines, 3),
        "item_line.several_items": round(multi / item_lines, 3),
        "item_line.leading_article": round(article / item_lines, 3),
    })  # fmt: skip
    return out


if __name__ == "__main__":
    raise SystemExit(main())
