"""``python -m tester``: start the system, collect its traces, assert on them.

Exit codes: 0 every scenario passed (or was skipped, with its reason), 1 a
scenario failed (or left a process behind), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import sys
import textwrap
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from tester.collector import Collector, Span, SpanStore, spans_to_otlp_json
from tester.collector.jaeger_json import to_jaeger_json
from tester.collector.jaeger_query import DEFAULT_JAEGER_URL, JaegerPoller, JaegerQuery
from tester.collector.store import DEFAULT_MAX_BYTES
from tester.constellation import StartupError
from tester.discovery import describe, discover
from tester.fake_llm import seeding
from tester.html_report import write_html_report
from tester.query import IncompleteTrace, NoTelemetry
from tester.replay import ReplayError, load_context, replay_dirs
from tester.report import (
    ERROR,
    FAILED,
    INCOMPLETE,
    NO_TELEMETRY,
    PASSED,
    SKIPPED,
    ScenarioResult,
    write_json,
    write_junit,
)
from tester.scenario import SKIP_FACT, ScenarioContext, ScenarioSkipped
from tester.scenario_coverage import ScenarioCoverage, format_figures
from tester.schema import KNOWN_SERVICES
from tester.topic.evidence import describe_span
from tester.version import version

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def build_parser(scenario_names: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tester",
        description="End-to-end tests of the system, validated by its OpenTelemetry traces.",
    )
    p.add_argument(
        "--scenario",
        default="basic",
        help=f"scenario(s) to run, comma-separated, or 'all': "
        f"{', '.join(scenario_names)} (default basic)",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    p.add_argument("--list", action="store_true", help="list scenarios and exit")
    p.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the constellation and collector up after the checks; Ctrl-C ends",
    )
    p.add_argument("--verbose", action="store_true", help="print spans as they arrive")
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="artifacts folder: logs, output, traces (default ./artifacts/<time>)",
    )
    p.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for a topic run (default 180)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="run seed of the fake models' answers: the same N draws the same answers "
        "(default: a random seed, printed with the scenario and with every failure)",
    )
    p.add_argument("--junit", type=Path, default=None, help="write a JUnit XML report here")
    p.add_argument("--json", type=Path, default=None, help="write a JSON summary here")
    p.add_argument(
        "--replay",
        type=Path,
        default=None,
        metavar="ARTIFACT_DIR",
        help="re-run the trace checks of an earlier run on its artifacts folder, offline",
    )
    p.add_argument(
        "--forward-to",
        default=None,
        metavar="URL",
        help="also send every span received to this OTLP/HTTP endpoint "
        "(e.g. http://localhost:4318, the collector in front of Jaeger; "
        "default: OTEL_EXPORTER_OTLP_ENDPOINT, if set)",
    )
    p.add_argument(
        "--trace-source",
        choices=("collector", "jaeger"),
        default="collector",
        help="where the checks read spans: the embedded collector (default) or Jaeger's "
        "query API (--jaeger-url), for a system that traces elsewhere",
    )
    p.add_argument(
        "--jaeger-url",
        default=None,
        metavar="URL",
        help=f"Jaeger query/UI base URL (default {DEFAULT_JAEGER_URL}, or port 16686 on "
        "the --forward-to host)",
    )
    p.add_argument(
        "--span-store-mib",
        type=_positive_mib,
        default=DEFAULT_MAX_BYTES // 2**20,
        metavar="MIB",
        help=f"cap on what the collected spans may hold (default {DEFAULT_MAX_BYTES // 2**20}); "
        "spans beyond it are dropped, counted, and named in the verdict",
    )
    p.add_argument(
        "--trace-ep",
        default=None,
        metavar="URL",
        help="OTLP endpoint the system traces to (default: the embedded collector; "
        f"with --trace-source jaeger and no --forward-to: {DEFAULT_UPSTREAM})",
    )
    p.add_argument(
        "--coverage",
        nargs="?",
        type=Path,
        const=COVERAGE_DEFAULT,
        default=None,
        metavar="DIR",
        help="measure which statements and branches of system/ the scenarios execute, in "
        "every process they start; combined report in DIR (default <workdir>/coverage)",
    )
    return p


#: --coverage without a folder: <workdir>/coverage
COVERAGE_DEFAULT = Path("\0workdir")

DEFAULT_UPSTREAM = "http://localhost:4318"


def _positive_mib(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of MiB >= 1, got {text!r}")
    return value


def forward_target(forward_to: str | None, environ: Mapping[str, str]) -> str | None:
    """``--forward-to``, else the tester's own ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` /
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the system under test never sees them: it traces
    to the embedded collector, which forwards). The forwarder speaks OTLP/HTTP only."""
    if forward_to:
        return forward_to
    variable = next(
        (v for v in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
         if environ.get(v)),
        None,
    )  # fmt: skip
    if variable is None:
        return None
    endpoint = environ[variable].strip()
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol != "http/protobuf" or not endpoint.startswith(("http://", "https://")):
        raise ValueError(
            f"{variable}={endpoint!r} (protocol {protocol}): the tester forwards over "
            "OTLP/HTTP only (http/protobuf, an http(s):// URL); give --forward-to URL"
        )
    return endpoint


def jaeger_ui_url(args: argparse.Namespace) -> str:
    """--jaeger-url, else the Jaeger UI port on the --forward-to host, else localhost."""
    if args.jaeger_url:
        return str(args.jaeger_url).rstrip("/")
    if args.forward_to:
        host = urllib.parse.urlsplit(args.forward_to).hostname
        if host:
            return f"http://{host}:16686"
    return DEFAULT_JAEGER_URL


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _print_span(span: Span) -> None:
    print(f"  span  {describe_span(span)}", flush=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cheat_sheet(
    ctx: ScenarioContext, artifacts: dict[str, str], jaeger_url: str | None = None
) -> str:
    collector = ctx.collector
    lines = [
        "",
        "constellation left running (--keep-running); Ctrl-C tears it down.",
    ]
    if collector is not None:
        lines += [
            f"  collector (OTLP/HTTP): {collector.http_endpoint}/v1/traces",
            f"  collector (OTLP/gRPC): {collector.grpc_endpoint}",
        ]
        if collector.forwarder is not None:
            lines.append(f"  forwarding to:         {collector.forwarder.url}")
    if jaeger_url:
        lines.append(f"  Jaeger UI:             {jaeger_url}/search?service=orchestrator")
    lines += [
        f"  traces (OTLP JSON):    {artifacts.get('traces_otlp')}",
        f"  traces (Jaeger UI):    {artifacts.get('traces_jaeger')}",
    ]
    for c in ctx.constellations:
        if c.web is not None:
            ui = f"  UI and API:            {c.web.url}   (API: {c.web.url}/openapi.json)"
            lines.insert(2, ui)
            host, port = c.web.control_address
            lines.append(f"  orchestrator control:  {host}:{port}")
        if c.orchestrator_address:
            host, port = c.orchestrator_address
            lines.append(f"  orchestrator port:     {host}:{port}")
        for p in c.processes:
            state = "running" if p.is_running() else f"exited {p.returncode}"
            lines.append(f"  {p.name:<22} pid {p.pid} ({state}), log {p.log_path}")
            if p.output_dir is not None:
                lines.append(f"  {p.name} output:{'':<4} {p.output_dir}")
        for f in c.log_files():
            lines.append(f"  log: {f}")
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    """A reader (Jaeger UI, a script) sees the old file or the new one, never half."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _save_traces(store: SpanStore, workdir: Path) -> dict[str, str]:
    spans = store.all()
    otlp, jaeger = workdir / "traces.otlp.json", workdir / "traces.jaeger.json"
    _write_atomically(otlp, json.dumps(spans_to_otlp_json(spans)))
    _write_atomically(jaeger, json.dumps(to_jaeger_json(spans)))
    return {"traces_otlp": str(otlp), "traces_jaeger": str(jaeger), "logs": str(workdir / "logs")}


def run_scenario(
    name: str, scenario: ModuleType, workdir: Path, args: argparse.Namespace, describe: str
) -> ScenarioResult:
    workdir.mkdir(parents=True, exist_ok=True)
    max_bytes = args.span_store_mib * 2**20
    collector = Collector(forward_to=args.forward_to, store=SpanStore(max_bytes=max_bytes)).start()
    ctx = ScenarioContext(
        collector,
        workdir,
        verbose=args.verbose,
        keep_running=args.keep_running,
        timeout=args.timeout,
        trace_endpoint=args.trace_ep,
    )
    poller: JaegerPoller | None = None
    jaeger_url = jaeger_ui_url(args) if args.forward_to or args.trace_source == "jaeger" else None
    if args.trace_source == "jaeger" and jaeger_url:
        if ctx.trace_endpoint is None and not args.forward_to:
            ctx.trace_endpoint = DEFAULT_UPSTREAM
        ctx.span_store = SpanStore(max_bytes=max_bytes)
        poller = JaegerPoller(
            JaegerQuery(jaeger_url),
            ctx.span_store,
            sorted(KNOWN_SERVICES),
            since_ns=time.time_ns() - 10 * 10**9,
        ).start()
    if args.verbose:
        ctx.store.subscribe(_print_span)
    seeding.set_run_seed(args.seed if args.seed is not None else seeding.new_run_seed())
    print(f"== scenario {name}: {describe}")
    print(f"   seed {seeding.run_seed()} (rerun with --seed {seeding.run_seed()})")
    print(f"   collector on {collector.http_endpoint} (HTTP) and {collector.grpc_endpoint} (gRPC)")
    if collector.forwarder is not None:
        print(f"   forwarding to {collector.forwarder.url}; Jaeger UI {jaeger_url}")
    if poller is not None:
        print(
            f"   reading traces from Jaeger at {jaeger_url}; system traces to {ctx.trace_endpoint}"
        )
    started = time.monotonic()
    status, detail = FAILED, ""
    artifacts: dict[str, str] = {}
    check_s: float | None = None
    idle_s: float | None = None
    try:
        status, detail = _judge(lambda: _run_then_check(name, scenario, ctx))
    finally:
        check_s = round(time.monotonic() - started, 3)
        with contextlib.suppress(Exception):
            artifacts = _save_traces(ctx.store, workdir)
        try:
            if args.keep_running:
                # the verdict now, not after Ctrl-C; then stay up, traces kept current
                print(f"== scenario {name} {status.upper()} (run and checks: {check_s:.1f}s)")
                if detail:
                    print(detail)
                idle_started = time.monotonic()
                with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: tear down
                    print(_cheat_sheet(ctx, artifacts, jaeger_url), flush=True)
                    _keep_traces_current(ctx.store, workdir)
                idle_s = round(time.monotonic() - idle_started, 3)
                print("\ntearing down...")
        finally:
            ctx.close()
            leftovers = ctx.leftover_processes()
            collector.stop()
            if poller is not None:
                poller.stop()
                if poller.errors:
                    ctx.note(
                        f"reading from Jaeger failed {poller.errors} time(s): {poller.last_error}"
                    )
            if collector.forwarder is not None:
                ctx.note(f"forwarded to {collector.forwarder.url}: {collector.forwarder.summary()}")
            with contextlib.suppress(Exception):
                artifacts = _save_traces(ctx.store, workdir)
    partial = ctx.store.dropped_note()
    if partial:  # the checks saw only part of the trace: every verdict below says so
        ctx.note(partial)
    if leftovers:
        status = FAILED
        detail += "\nLEFTOVER PROCESSES after teardown:\n" + "\n".join(f"  {p}" for p in leftovers)
    if status == FAILED:
        detail += (
            f"\nseed {seeding.run_seed()}: python -m tester --scenario {name} "
            f"--seed {seeding.run_seed()} draws the same answers"
        )
    passed = status == PASSED
    result = ScenarioResult(
        name,
        describe,
        passed,
        round(time.monotonic() - started, 3),
        detail,
        str(workdir),
        artifacts,
        ctx.topics,
        ctx.notes,
        leftovers,
        status,
        check_s if args.keep_running else None,
        idle_s,
        ctx.store.dropped,
    )
    for line in ctx.notes:
        print(f"   note: {line}")
    if status == SKIPPED:
        print(f"== scenario {name} SKIPPED: {detail}")
        return result
    if not passed:
        print(detail, file=sys.stderr)
        print(
            f"   artifacts: {workdir}\n   logs: {artifacts.get('logs')}\n"
            f"   traces: {artifacts.get('traces_otlp')} (Jaeger UI: "
            f"{artifacts.get('traces_jaeger')})",
            file=sys.stderr,
        )
    on_partial = f" on partial data ({ctx.store.dropped} spans dropped)" if partial else ""
    if idle_s is not None and check_s is not None:
        print(
            f"== scenario {name} {status.upper()}: run and checks {check_s:.1f}s, "
            f"kept running {idle_s:.1f}s{on_partial}"
        )
    else:
        print(f"== scenario {name} {status.upper()} in {result.duration_s:.1f}s{on_partial}")
    return result


TRACE_REFRESH_S = 1.0


def _keep_traces_current(store: SpanStore, workdir: Path) -> None:
    """Until Ctrl-C: rewrite the trace files whenever spans arrived, so what a user
    opens while the constellation is up (Jaeger UI's JSON File) is what it did."""
    written = len(store)
    while True:
        time.sleep(TRACE_REFRESH_S)
        if len(store) != written:
            written = len(store)
            with contextlib.suppress(OSError):
                _save_traces(store, workdir)


def _run_then_check(name: str, scenario: ModuleType, ctx: ScenarioContext) -> None:
    """The scenario convention (see scenarios/__init__.py): run, record facts, check."""
    try:
        scenario.run(ctx)
    finally:
        with contextlib.suppress(Exception):
            ctx.save_facts(name)
    check = getattr(scenario, "check", None)
    if callable(check):
        check(ctx)


def _judge(body: Callable[[], None]) -> tuple[str, str]:
    """(status, detail) of running body: the statuses are the report's."""
    try:
        body()
    except ScenarioSkipped as exc:
        return SKIPPED, str(exc)
    except NoTelemetry as exc:
        return NO_TELEMETRY, f"NO TELEMETRY: {exc}"
    except IncompleteTrace as exc:
        return INCOMPLETE, f"INCOMPLETE TRACE: {exc}"
    except AssertionError as exc:
        return FAILED, f"ASSERTION FAILED: {exc}"
    except StartupError as exc:
        return FAILED, f"STARTUP FAILED: {exc}"
    except KeyboardInterrupt:
        return FAILED, "interrupted"
    except Exception:
        return ERROR, "ERROR in scenario:\n" + traceback.format_exc()
    return PASSED, ""


def replay(folder: Path, scenarios: dict[str, ModuleType]) -> list[ScenarioResult]:
    """Run the checks of every scenario recorded in an artifacts folder, offline."""
    results = []
    for workdir in replay_dirs(folder):
        name, ctx = load_context(workdir)
        module = scenarios.get(name)
        started = time.monotonic()
        print(f"== replay {name} from {workdir} ({len(ctx.store)} spans)")
        if ctx.facts.get(SKIP_FACT):
            status, detail = SKIPPED, str(ctx.facts[SKIP_FACT])
        elif module is None or not callable(getattr(module, "check", None)):
            status, detail = ERROR, f"scenario {name!r} has no check(ctx) to replay"
        else:
            status, detail = _judge(functools.partial(module.check, ctx))
        if detail:
            print(detail, file=sys.stderr)
        result = ScenarioResult(
            name,
            f"replay of {workdir}",
            status == PASSED,
            round(time.monotonic() - started, 3),
            detail,
            str(workdir),
            {"traces_otlp": str(workdir / "traces.otlp.json")},
            ctx.topics,
            ctx.notes,
            [],
            status,
        )
        print(f"== replay {name} {status.upper()} in {result.duration_s:.1f}s")
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    SCENARIOS = discover()
    parser = build_parser(sorted(SCENARIOS))
    parser.__class__ = _Parser
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"tester: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        width = max(shutil.get_terminal_size().columns, 60)
        for name, module in SCENARIOS.items():  # basic first, as discovered
            line = f"{name:<22} {describe(module)}"
            print(textwrap.fill(line, width, subsequent_indent=" " * 23, break_on_hyphens=False))
        return EXIT_PASS
    if args.replay is not None:
        try:
            results = replay(args.replay.resolve(), SCENARIOS)
        except ReplayError as exc:
            print(f"tester: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        return _finish(results, len(results), args, args.replay.resolve())
    names = (
        list(SCENARIOS)
        if args.scenario == "all"
        else [n.strip() for n in args.scenario.split(",") if n.strip()]
    )
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        print(
            f"tester: error: unknown scenario {', '.join(map(repr, unknown)) or '(none)'}; "
            f"choose from {', '.join(sorted(SCENARIOS))} or 'all'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.timeout <= 0:
        print("tester: error: --timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    if args.keep_running and len(names) > 1:
        print("tester: error: --keep-running takes a single scenario", file=sys.stderr)
        return EXIT_USAGE
    try:
        args.forward_to = forward_target(args.forward_to, os.environ)
    except ValueError as exc:
        print(f"tester: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    root = (args.workdir or Path("artifacts") / datetime.now().strftime("%Y%m%d-%H%M%S")).resolve()
    measuring: ScenarioCoverage | None = None
    if args.coverage is not None:
        folder = root / "coverage" if args.coverage == COVERAGE_DEFAULT else args.coverage
        try:
            measuring = ScenarioCoverage(folder).start()
        except (ImportError, RuntimeError, OSError) as exc:
            print(f"tester: error: --coverage: {exc}", file=sys.stderr)
            return EXIT_USAGE
    signal.signal(signal.SIGTERM, _raise_interrupt)
    results = []
    try:
        for name in names:
            workdir = root if len(names) == 1 else root / name
            if measuring is not None:
                measuring.enter(name)
            results.append(
                run_scenario(name, SCENARIOS[name], workdir, args, describe(SCENARIOS[name]))
            )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    if measuring is not None:
        _report_coverage(measuring)
    return _finish(results, len(names), args, root)


def _report_coverage(measuring: ScenarioCoverage) -> None:
    """Combine and report; a failure here is said, the scenarios' verdict stands."""
    try:
        figures = measuring.finish()
    except Exception as exc:  # coverage.py's own errors have no common base worth naming
        print(f"tester: coverage report failed: {exc}", file=sys.stderr)
        return
    print(format_figures(figures), end="")
    print(f"coverage: {measuring.folder}/report.txt, {measuring.folder}/html/index.html")


def _finish(
    results: list[ScenarioResult], expected: int, args: argparse.Namespace, root: Path
) -> int:
    if args.junit:
        write_junit(args.junit, results)
    if args.json:
        write_json(args.json, results)
    if results:
        try:
            report = write_html_report(root / "report.html", results)
            print(f"report: {report}")
        except (OSError, ValueError) as exc:  # the verdict stands without the page
            print(f"tester: could not write report.html: {exc}", file=sys.stderr)
    passed = sum(r.passed for r in results)
    counts = Counter(r.status for r in results if not r.passed)
    others = "".join(f", {c} {s}" for s, c in counts.items() if s != FAILED)
    failed = counts.get(FAILED, 0) + (expected - len(results))
    print(f"{passed} passed, {failed} failed{others} (artifacts in {root})")
    ok = sum(r.ok for r in results)
    return EXIT_PASS if ok == expected else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
