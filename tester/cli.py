"""``python -m tester``: start the system, collect its traces, assert on them.

Exit codes: 0 every scenario passed, 1 a scenario failed (or left a process
behind), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path

from tester.collector import Collector, Span, spans_to_otlp_json
from tester.constellation import StartupError
from tester.scenario import ScenarioContext
from tester.topic.evidence import describe_span

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def build_parser(scenario_names: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tester",
        description="End-to-end tests of the system, validated by its OpenTelemetry traces.",
    )
    p.add_argument(
        "--scenario",
        default="basic",
        help=f"scenario to run: {', '.join(scenario_names)} (default basic)",
    )
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
        help="where logs, output and traces go (default ./artifacts/<scenario>-<time>)",
    )
    p.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for a topic run (default 180)"
    )
    return p


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _print_span(span: Span) -> None:
    print(f"  span  {describe_span(span)}", flush=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cheat_sheet(ctx: ScenarioContext, traces: Path) -> str:
    lines = [
        "",
        "constellation left running (--keep-running); Ctrl-C tears it down.",
        f"  collector (OTLP/HTTP): {ctx.collector.http_endpoint}/v1/traces",
        f"  collector (OTLP/gRPC): {ctx.collector.grpc_endpoint}",
        f"  traces so far:         {traces}",
    ]
    for c in ctx.constellations:
        if c.orchestrator_address:
            lines.append(
                f"  orchestrator port:     {c.orchestrator_address[0]}:{c.orchestrator_address[1]}"
            )
        for p in c.processes:
            state = "running" if p.is_running() else f"exited {p.returncode}"
            lines.append(f"  {p.name:<22} pid {p.pid} ({state}), log {p.log_path}")
            output = getattr(p, "output_dir", None)
            if output is not None:
                lines.append(f"  {p.name} output:{'':<4} {output}")
        for f in c.log_files():
            lines.append(f"  log: {f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from scenarios import SCENARIOS, describe

    parser = build_parser(sorted(SCENARIOS))
    parser.__class__ = _Parser
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"tester: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.list:
        for name, module in sorted(SCENARIOS.items()):
            print(f"{name:<12} {describe(module)}")
        return EXIT_PASS
    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        print(
            f"tester: error: unknown scenario {args.scenario!r}; choose from "
            f"{', '.join(sorted(SCENARIOS))}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.timeout <= 0:
        print("tester: error: --timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    workdir = args.workdir or Path("artifacts") / (
        f"{args.scenario}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)

    collector = Collector().start()
    if args.verbose:
        collector.store.subscribe(_print_span)
    ctx = ScenarioContext(
        collector,
        workdir,
        verbose=args.verbose,
        keep_running=args.keep_running,
        timeout=args.timeout,
    )
    traces = workdir / "traces.otlp.json"
    print(f"scenario {args.scenario}: {describe(scenario)}")
    print(f"collector on {collector.http_endpoint} (HTTP) and {collector.grpc_endpoint} (gRPC)")
    started = time.monotonic()
    result, detail = EXIT_FAIL, ""
    try:
        scenario.run(ctx)
        result = EXIT_PASS
    except AssertionError as exc:
        detail = f"ASSERTION FAILED: {exc}"
    except StartupError as exc:
        detail = f"STARTUP FAILED: {exc}"
    except KeyboardInterrupt:
        detail = "interrupted"
    except Exception:
        detail = "ERROR in scenario:\n" + traceback.format_exc()
    finally:
        with contextlib.suppress(Exception):
            traces.write_text(json.dumps(spans_to_otlp_json(collector.store.all())))
        try:
            if args.keep_running:
                if detail:
                    print(detail)
                print(_cheat_sheet(ctx, traces), flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        time.sleep(3600)
                print("\ntearing down...")
        finally:
            ctx.close()
            leftovers = ctx.leftover_processes()
            collector.stop()
            with contextlib.suppress(Exception):
                traces.write_text(json.dumps(spans_to_otlp_json(collector.store.all())))
    for line in ctx.notes:
        print(f"note: {line}")
    if leftovers:
        result = EXIT_FAIL
        detail += "\nLEFTOVER PROCESSES after teardown:\n" + "\n".join(f"  {p}" for p in leftovers)
    elapsed = time.monotonic() - started
    if (detail and not args.keep_running) or leftovers:
        print(detail, file=sys.stderr)
    print(f"artifacts: {workdir} (logs in {workdir / 'logs'}, traces in {traces})")
    verdict = "PASSED" if result == EXIT_PASS else "FAILED"
    print(f"scenario {args.scenario} {verdict} in {elapsed:.1f}s")
    return result


if __name__ == "__main__":
    sys.exit(main())
