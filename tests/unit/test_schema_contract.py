"""The two copies of the span schema agree with its contract, docs/tracing.md.

How the doc is read (so that a new name is found whatever the sentence around it):

* a **documented name** is any text in single backticks outside fenced code
  blocks (`` `batch.new` ``, `` `chat {gen_ai.request.model}` ``), plus the
  span name opening each line of a fenced span tree (``├── producer.spawn``);
* the names the doc uses for spans, attributes and events are the documented
  names shaped like ``name.name`` in lower case (``run.status``,
  ``gen_ai.usage.input_tokens``), file names (``run.json``...) excluded.

Checked:

1. every string constant of ``tester/schema.py`` and
   ``system/telemetry/schema.py`` (tuple and set members too) is a documented
   name, or, for a prefix such as ``"chat "`` or ``"control."``, the start of
   one;
2. every span/attribute/event name of the doc is a value in
   ``system/telemetry/schema.py`` (the system's single source of names), or
   starts with one of its prefixes; names the system does not set itself are
   listed in ``NOT_SYSTEM_NAMES`` with the reason;
3. the system sets no span name, attribute or event from a string literal
   (it uses the schema's constants), so 2 covers what it emits;
4. the tester's ``KNOWN_SERVICES`` are the doc's ``service.name`` values.

Each failure names the file, line, constant and value, and what to do.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "tracing.md"
SCHEMAS = [ROOT / "tester" / "schema.py", ROOT / "system" / "telemetry" / "schema.py"]
SYSTEM_SCHEMA = SCHEMAS[1]

#: doc names that are not constants of system/telemetry/schema.py, and why
NOT_SYSTEM_NAMES = {
    # set by the OpenTelemetry FastAPI instrumentation (HTTP semantic conventions)
    "http.request.method": "FastAPI instrumentation",
    "http.route": "FastAPI instrumentation",
    "http.response.status_code": "FastAPI instrumentation",
    "url.scheme": "FastAPI instrumentation",
    "url.path": "FastAPI instrumentation",
    "client.address": "FastAPI instrumentation",
    "user_agent.original": "FastAPI instrumentation",
    # a value of gen_ai.provider.name, not a name
    "gcp.gemini": "attribute value",
    # keys of run.json, not of spans
    "levers.subtopics": "run.json key",
    "levers.subtopics.fallback": "run.json key",
}

#: schema constants the system does not emit yet, so the doc does not list them;
#: drop the entry once the name is set on a span and documented
NOT_EMITTED_YET = {
    "gen_ai.request.max_tokens": "kept for the per-provider sampling settings (issue 10 item 4)",
    # the tester's copy of the completeness names (issue 12), merged ahead of the
    # branch that emits and documents them: drop these once docs/tracing.md has them
    **dict.fromkeys(
        [
            "coverage.estimate", "run.covered", "coverage.low", "coverage.high",
            "coverage.universe", "coverage.universe_low", "coverage.universe_high",
            "coverage.found", "coverage.run_requests", "coverage.requests", "coverage.basis",
            "coverage.sample_coverage",
        ],
        "issue 12 (completeness): emitted and documented by its branch",
    ),
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
_FILE = re.compile(r"\.(?:txt|json|jsonl|md|py|yaml|yml|html|toml)$")
_FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)
_TREE_SPAN = re.compile(r"^[\s│├└─]*([a-z][a-z0-9_.]*(?: \{[^}]*\})?)\s")
_SPAN_OPS = {"set_attribute", "set_attributes", "add_event", "start_as_current_span", "start_span"}


def _documented(doc: str) -> dict[str, int]:
    """Documented name -> first line of the doc that has it."""
    names: dict[str, int] = {}

    def line_of(offset: int) -> int:
        return doc.count("\n", 0, offset) + 1

    fences = [(m.start(), m.end()) for m in _FENCE.finditer(doc)]
    for start, end in fences:
        for number, line in enumerate(doc[start:end].splitlines()[1:-1], line_of(start) + 1):
            match = _TREE_SPAN.match(line)
            if match:
                names.setdefault(match.group(1), number)
    for match in re.finditer(r"`([^`\n]+)`", doc):
        if not any(start <= match.start() < end for start, end in fences):
            names.setdefault(match.group(1).strip(), line_of(match.start()))
    return names


def _constants(path: Path) -> list[tuple[int, str, str]]:
    """(line, constant, value) for every module-level string constant, members included."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        name = next((t.id for t in targets if isinstance(t, ast.Name)), None)
        if name is None or not name.isupper() or node.value is None:
            continue
        for value in ast.walk(node.value):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append((value.lineno, name, value.value))
    return found


def _is_prefix(value: str) -> bool:
    return value.endswith((" ", "."))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_schema_name_is_documented() -> None:
    documented = _documented(DOC.read_text(encoding="utf-8"))
    missing = []
    for path in SCHEMAS:
        for line, name, value in _constants(path):
            if value in documented or value in NOT_EMITTED_YET:
                continue
            if _is_prefix(value) and any(d.startswith(value) for d in documented):
                continue
            missing.append(
                f"{_rel(path)}:{line} {name} = {value!r}: `{value}` is not in docs/tracing.md"
            )
    assert not missing, (
        "names in the schema modules that docs/tracing.md does not document (write each "
        "in backticks in its span's section or table, or fix the name):\n  "
        + "\n  ".join(missing)
    )


def test_every_documented_name_is_in_the_system_schema() -> None:
    documented = _documented(DOC.read_text(encoding="utf-8"))
    values = {value for _, _, value in _constants(SYSTEM_SCHEMA)}
    prefixes = [v for v in values if _is_prefix(v)]
    missing = []
    for doc_name, line in sorted(documented.items(), key=lambda item: item[1]):
        if not _NAME.match(doc_name) or _FILE.search(doc_name) or doc_name in NOT_SYSTEM_NAMES:
            continue
        if doc_name in values or any(doc_name.startswith(p) for p in prefixes):
            continue
        missing.append(f"docs/tracing.md:{line} `{doc_name}`")
    assert not missing, (
        "names docs/tracing.md documents that system/telemetry/schema.py does not define "
        "(add a constant there and use it; if the system does not set the name itself, add "
        "it to NOT_SYSTEM_NAMES in tests/unit/test_schema_contract.py with the reason):\n  "
        + "\n  ".join(missing)
    )


def test_the_tree_span_names_are_system_spans() -> None:
    doc = DOC.read_text(encoding="utf-8")
    values = {value for _, _, value in _constants(SYSTEM_SCHEMA)}
    tree = [name for name in _documented(doc) if name in _tree_names(doc)]
    chat = [name for name in tree if name.startswith("chat {")]
    assert chat and "chat" in values, "the GenAI chat span is `chat {model}` with the op `chat`"
    assert {"topic.run", "producer.run", "batch.receive"} <= set(tree), tree


def _tree_names(doc: str) -> set[str]:
    names = set()
    for block in _FENCE.findall(doc):
        for line in block.splitlines()[1:-1]:
            match = _TREE_SPAN.match(line)
            if match:
                names.add(match.group(1))
    return names


def test_the_system_names_spans_and_attributes_only_through_its_schema() -> None:
    literals = []
    for path in sorted((ROOT / "system").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _SPAN_OPS
            ):
                continue
            named = [k.value for k in node.keywords if k.arg in {"name", "attributes"}]
            args = [*node.args, *named]
            for arg in args:
                keys = arg.keys if isinstance(arg, ast.Dict) else [arg]
                for key in keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        literals.append(
                            f"{_rel(path)}:{node.lineno} {node.func.attr}({key.value!r})"
                        )
    assert not literals, (
        "span, attribute and event names come from system/telemetry/schema.py (documented "
        "in docs/tracing.md), not literals:\n  " + "\n  ".join(literals)
    )


def test_the_tester_knows_the_documented_services() -> None:
    from tester.schema import KNOWN_SERVICES

    row = next(
        (line for line in DOC.read_text(encoding="utf-8").splitlines()
         if line.startswith("| `service.name` |")),
        None,
    )
    assert row is not None, "docs/tracing.md has no `service.name` row in its Resource table"
    documented = set(re.findall(r"`([^`]+)`", row.split("|")[2]))
    assert documented == set(KNOWN_SERVICES), (
        f"docs/tracing.md service.name values {sorted(documented)} != tester/schema.py "
        f"KNOWN_SERVICES {sorted(KNOWN_SERVICES)}"
    )


def test_the_reader_finds_names_wherever_the_doc_writes_them() -> None:
    doc = (
        "Intro `a.b` and `c.d` (`e.f` | `g.h`).\n"
        "```\n"
        "x.root                    orchestrator\n"
        "├── chat {model}          producer\n"
        "```\n"
        "| event | attributes |\n|---|---|\n| `ev.one` | `k.v`, `k.w` |\n"
        "```python\nq = spans(`not.this`)\n```\n"
    )
    found = _documented(doc)
    assert {"a.b", "c.d", "e.f", "g.h", "x.root", "chat {model}", "ev.one", "k.v", "k.w"} <= set(
        found
    )
    assert "not.this" not in found
    assert found["ev.one"] == 8
