"""``report.html``: one self-contained page per tester run, for people.

Each scenario's verdict and timings, the evidence of a failure, the discovery
curve of each topic run (unique attributes over time, and the estimated
coverage when ``topic.run`` carries ``coverage.estimate`` events), the
provider split of the LLM calls, and a waterfall of every trace with search
by span name and attribute. Everything it needs is inside the file: the CSS,
the script and the data (no CDN, no network), so it opens from a CI artifact
store or a mail attachment. The spans come from each scenario's
``traces.otlp.json``, so a replayed run gets the same report.

The numbers are computed here, in Python (tested); the page's script only
draws them.
"""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tester import schema as n
from tester.collector import Span, spans_from_otlp_json
from tester.report import ScenarioResult
from tester.version import version

ASSETS = Path(__file__).parent / "report_assets"
#: spans embedded per scenario; a larger trace is cut (the report says so)
MAX_SPANS = 20_000
MAX_ATTRIBUTE_CHARS = 2_000


def discovery_curves(spans: Iterable[Span]) -> list[dict[str, Any]]:
    """Per topic run: cumulative new attributes at each ``batch.receive``'s end and the
    coverage estimate at each ``coverage.estimate`` event, in seconds since the run began."""
    spans = list(spans)
    roots = [s for s in spans if s.name == n.TOPIC_RUN]
    batches: dict[str, list[Span]] = defaultdict(list)
    for s in spans:
        if s.name == n.BATCH_RECEIVE:
            batches[s.trace_id].append(s)
    curves = []
    for root in sorted(roots, key=lambda s: s.start_ns):
        unique = [[0.0, 0]]
        total = 0
        for b in sorted(batches.get(root.trace_id, []), key=lambda s: s.end_ns):
            total += int(b.attr(n.BATCH_NEW, 0) or 0)
            unique.append([round((b.end_ns - root.start_ns) / 1e9, 3), total])
        coverage = []
        for e in root.events:
            if e.name == n.EVENT_COVERAGE and n.COVERAGE_ESTIMATE in e.attributes:
                t = round((e.time_ns - root.start_ns) / 1e9, 3)
                coverage.append(
                    [
                        t,
                        float(e.attributes[n.COVERAGE_ESTIMATE]),
                        _float(e.attributes.get(n.COVERAGE_LOW)),
                        _float(e.attributes.get(n.COVERAGE_HIGH)),
                    ]
                )
        curves.append(
            {
                "topic": str(root.attr(n.TOPIC_NAME, "")),
                "trace_id": root.trace_id,
                "status": str(root.attr(n.RUN_STATUS, "")),
                "duration_s": round(root.duration_ns / 1e9, 3),
                "resumed": int(root.attr(n.RUN_RESUMED, 0) or 0),
                "unique": unique,
                "coverage": coverage,
            }
        )
    return curves


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _attempts(span: Span) -> list[dict[str, Any]]:
    return [dict(e.attributes) for e in span.events if e.name == n.EVENT_ATTEMPT]


def provider_split(spans: Iterable[Span]) -> list[dict[str, Any]]:
    """LLM calls (``chat *`` spans) per ``gen_ai.provider.name``: calls, errors, tokens.

    ``errors`` are failed attempts: the ``llm.attempt`` events with an ``error.type``
    (docs/tracing.md; a stop's ``cancelled`` is no failure), counted for the provider
    each attempt went to, so a request rescued by a retry or a failover still shows its
    failures. An attempt names its provider by its ``--llm`` name (``llm.provider``);
    the answering attempt of each span ties that name to the span's
    ``gen_ai.provider.name``."""
    chats = [s for s in spans if s.name.startswith(n.CHAT_PREFIX)]
    names: dict[str, str] = {}  # llm.provider -> gen_ai.provider.name
    for s in chats:
        attempts = _attempts(s)
        if attempts and n.LLM_PROVIDER in attempts[-1]:
            names[str(attempts[-1][n.LLM_PROVIDER])] = str(s.attr(n.GENAI_PROVIDER_NAME, "unknown"))
    split: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        return split.setdefault(
            name, {"provider": name, "calls": 0, "errors": 0, "input_tokens": 0, "output_tokens": 0}
        )

    for s in chats:
        calls = row(str(s.attr(n.GENAI_PROVIDER_NAME, "unknown")))
        calls["calls"] += 1
        calls["input_tokens"] += int(s.attr(n.GENAI_INPUT_TOKENS, 0) or 0)
        calls["output_tokens"] += int(s.attr(n.GENAI_OUTPUT_TOKENS, 0) or 0)
        for attempt in _attempts(s):
            error = attempt.get(n.ERROR_TYPE)
            if error is not None and error != "cancelled":
                key = str(attempt.get(n.LLM_PROVIDER, ""))
                row(names.get(key, key or calls["provider"]))["errors"] += 1
    total = sum(r["calls"] for r in split.values())
    for provider in split.values():
        provider["share"] = round(provider["calls"] / total, 4) if total else 0.0
    return sorted(split.values(), key=lambda r: -r["calls"])


def _value(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
        return value[:MAX_ATTRIBUTE_CHARS] + "…"
    return value


def span_table(spans: list[Span]) -> dict[str, Any]:
    """Spans in a compact form, times in microseconds since the earliest span's start
    (nanoseconds since the epoch do not fit a JavaScript number)."""
    kept = sorted(spans, key=lambda s: s.start_ns)[:MAX_SPANS]
    origin = kept[0].start_ns if kept else 0
    rows = [
        {
            "t": s.trace_id,
            "id": s.span_id,
            "p": s.parent_span_id,
            "n": s.name,
            "sv": s.service_name,
            "k": s.kind,
            "st": (s.start_ns - origin) / 1000,
            "d": s.duration_ns / 1000,
            "s": s.status,
            "m": s.status_message,
            "a": {k: _value(v) for k, v in s.attributes.items()},
            "e": [
                {"n": e.name, "t": (e.time_ns - origin) / 1000, "a": _value(dict(e.attributes))}
                for e in s.events
            ],
            "l": [{"t": link.trace_id, "id": link.span_id} for link in s.links],
        }
        for s in kept
    ]
    return {"spans": rows, "total": len(spans), "cut": len(spans) > len(kept)}


def load_spans(result: ScenarioResult) -> list[Span]:
    """The scenario's spans from its ``traces.otlp.json`` ([] when there is none)."""
    path = result.artifacts.get("traces_otlp")
    if not path or not Path(path).is_file():
        return []
    try:
        return spans_from_otlp_json(Path(path).read_bytes())
    except ValueError:
        return []


def _relative_links(result: ScenarioResult, base: Path | None) -> dict[str, str]:
    """Artifact paths relative to the report's folder: links that still work once the
    whole folder is moved (a CI artifact store, a zip)."""
    if base is None:
        return {}
    paths = {"work folder": result.workdir, **result.artifacts}
    links = {}
    for key, value in paths.items():
        if value:
            try:
                links[key] = Path(os.path.relpath(Path(value).resolve(), base.resolve())).as_posix()
            except ValueError:  # another drive
                continue
    return links


def scenario_data(
    result: ScenarioResult, spans: list[Span], base: Path | None = None
) -> dict[str, Any]:
    return {
        "name": result.name,
        "description": result.description,
        "status": result.status,
        "passed": result.passed,
        "duration_s": result.duration_s,
        "check_s": getattr(result, "check_s", None),
        "idle_s": getattr(result, "idle_s", None),
        "detail": result.detail,
        "notes": result.notes,
        "leftovers": result.leftovers,
        "workdir": result.workdir,
        "artifacts": result.artifacts,
        "links": _relative_links(result, base),
        "topics": result.topics,
        "curves": discovery_curves(spans),
        "providers": provider_split(spans),
        "traces": span_table(spans),
    }


def _script_json(data: Any) -> str:
    """JSON safe inside <script>: no "</" can close the element."""
    return (
        json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
    )


def verdict(results: list[ScenarioResult]) -> str:
    """ "13 passed, 1 skipped": each outcome counted apart (a skip is not a failure)."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = sorted(counts, key=lambda status: (status != "passed", status == "skipped", status))
    return ", ".join(f"{counts[status]} {status}" for status in order) or "no scenarios"


def render(
    results: list[ScenarioResult],
    spans: dict[str, list[Span]] | None = None,
    base: Path | None = None,
) -> str:
    """The page; ``base`` is the folder it will be written to (for relative links)."""
    spans = spans or {}
    data = {
        "version": version(),
        "passed": sum(r.passed for r in results),
        "total": len(results),
        "ok": all(r.ok for r in results),
        "verdict": verdict(results),
        "scenarios": [
            scenario_data(r, spans[r.name] if r.name in spans else load_spans(r), base)
            for r in results
        ],
    }
    template = (ASSETS / "report.html").read_text(encoding="utf-8")
    return (
        template.replace("/*REPORT_CSS*/", (ASSETS / "report.css").read_text(encoding="utf-8"))
        .replace("/*REPORT_JS*/", (ASSETS / "report.js").read_text(encoding="utf-8"))
        .replace("REPORT_TITLE", html.escape(f"tester report: {data['verdict']}"))
        .replace("/*REPORT_DATA*/", _script_json(data))
    )


def write_html_report(
    path: Path, results: list[ScenarioResult], spans: dict[str, list[Span]] | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, spans, path.parent), encoding="utf-8")
    return path
