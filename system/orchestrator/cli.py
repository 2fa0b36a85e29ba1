"""``python -m system.orchestrator`` / ``orchestrator``: run one topic to completion.

With ``--topic`` (CLI mode) it runs that topic and exits. Without it (web
mode) it waits for work on the control port, driven by the webserver.

Exit codes: 0 the run completed or was stopped on request; 1 the run failed;
2 bad command-line input (nothing was started).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn

from system.logsetup import LEVELS, configure_logging
from system.orchestrator.config import (
    DEFAULT_AVOID_BUDGET,
    DEFAULT_MAX_DEGRADED_S,
    DEFAULT_MAX_RESTARTS,
    DEFAULT_PARTITION_BY,
    DEFAULT_PATIENCE_REQUESTS,
    DEFAULT_PATIENCE_S,
    DEFAULT_PRODUCERS,
    DEFAULT_REQUEST_SIZE,
    DEFAULT_SATURATION,
    DEFAULT_SIM_PROFILE,
    PARTITION_BY,
    SIM_PROFILES,
    ConfigError,
    LeverConfig,
    RunConfig,
    RunOptions,
    check_log_dir,
    provider_environment,
    validate_levers,
)
from system.orchestrator.progress import ProgressReporter, format_summary
from system.orchestrator.run import TopicRun
from system.orchestrator.signals import install_stop_handlers
from system.orchestrator.web.mode import serve
from system.orchestrator.web.settings import DEFAULT_CONTROL_PORT, WebSettings
from system.output import OutputError, OutputLock
from system.protocol.control_token import DEFAULT_TOKEN_FILE, TokenFileError, ensure_token
from system.telemetry import TracingConfigError, configure_tracing
from system.telemetry import schema as s
from system.telemetry.setup import check_tracing_environment, child_environment
from system.version import version

log = logging.getLogger("system.orchestrator")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: options that describe one run: CLI mode only
RUN_OPTIONS = (
    "producers",
    "iterations",
    "request_size",
    "output",
    "max_restarts",
    "sim_latency_ms",
    "sim_profile",
)  # the lever options are not here: web mode applies them to every run it starts


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="orchestrator",
        description="Run concurrent LLM producers to enumerate every unique attribute of a topic.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    p.add_argument("--topic", help="topic to enumerate (CLI mode); without it: web mode")
    p.add_argument(
        "--producers",
        type=int,
        default=DEFAULT_PRODUCERS,
        help=f"number of producer processes (default {DEFAULT_PRODUCERS})",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="LLM requests per producer (default: none; the run stops when the topic is "
        "saturated, see --saturation, or on Ctrl-C or SIGTERM)",
    )
    p.add_argument(
        "--provider",
        default="test",
        help='"test" for the simulated LLM, "env" for real APIs (default test)',
    )
    p.add_argument(
        "--request-size",
        type=int,
        default=DEFAULT_REQUEST_SIZE,
        help=f"items asked for per LLM call (default {DEFAULT_REQUEST_SIZE})",
    )
    p.add_argument(
        "--output", default=None, help="output directory (default ./output/<topic-slug>)"
    )
    p.add_argument(
        "--log-level", default="info", choices=sorted(LEVELS), help="log level (default info)"
    )
    p.add_argument(
        "--trace-ep",
        default=None,
        help="OTLP endpoint URL for traces (default: OTEL_EXPORTER_OTLP_* or none)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address producers connect to")
    p.add_argument("--port", type=int, default=0, help="producer port (default: ephemeral)")
    p.add_argument(
        "--log-dir", default=None, help="write each producer's log to DIR/producer-<id>.log"
    )
    p.add_argument(
        "--max-restarts",
        type=int,
        default=DEFAULT_MAX_RESTARTS,
        help=f"restarts per producer slot before the run fails (default {DEFAULT_MAX_RESTARTS})",
    )
    p.add_argument(
        "--sim-latency-ms",
        type=float,
        default=0.0,
        help="latency of the simulated LLM per call (test provider)",
    )
    p.add_argument(
        "--sim-profile",
        choices=SIM_PROFILES,
        default=DEFAULT_SIM_PROFILE,
        help="simulated LLM (test provider): weak = follows avoid lists and partitions only "
        f"partly, strong = a large instruction-following model (default {DEFAULT_SIM_PROFILE})",
    )
    p.add_argument("--no-progress", action="store_true", help="no live display on a terminal")
    llm = p.add_argument_group("real LLM providers (--provider env; README 'LLM providers')")
    llm.add_argument(
        "--llm",
        action="append",
        default=[],
        metavar="SPEC",
        help="an OpenAI-compatible endpoint: name=N,base_url=URL,model=M[,key_env=VAR]"
        "[,weight=W][,rpm=R][,tpm=T][,timeout=S][,deadline=S][,breaker_failures=K]"
        "[,breaker_cooldown=S];"
        " repeatable; replaces the OPENAI/ANTHROPIC/GEMINI defaults",
    )
    llm.add_argument(
        "--max-degraded-s",
        type=float,
        default=DEFAULT_MAX_DEGRADED_S,
        metavar="S",
        help="fail the run when no provider has been reachable for S seconds "
        f"(default {DEFAULT_MAX_DEGRADED_S:g}; 0 = wait for them forever)",
    )
    llm.add_argument(
        "--env-file", default=".env", help="read provider keys and settings from it (default .env)"
    )
    llm.add_argument(
        "--record-content",
        action="store_true",
        help="record prompts and answers (truncated) on the chat spans; off by default",
    )
    llm.add_argument(
        "--adaptive-weights",
        action="store_true",
        help="shift provider weights toward more unique attributes per token during the run",
    )
    lv = p.add_argument_group("efficiency levers (README 'Efficiency levers')")
    lv.add_argument(
        "--no-shared-state",
        action="store_true",
        help="do not push new uniques to producers (no avoid list in prompts)",
    )
    lv.add_argument(
        "--avoid-budget",
        type=int,
        default=DEFAULT_AVOID_BUDGET,
        metavar="TOKENS",
        help=f"tokens of already-found items per prompt (default {DEFAULT_AVOID_BUDGET}; 0 = none)",
    )
    lv.add_argument(
        "--no-partitions", action="store_true", help="do not split the topic among producers"
    )
    lv.add_argument(
        "--partition-by",
        choices=PARTITION_BY,
        default=DEFAULT_PARTITION_BY,
        help="letters: alphabetical ranges; subtopics: sub-topics a producer's LLM proposes "
        "(the whole topic until they arrive, letters if that fails) "
        f"(default {DEFAULT_PARTITION_BY})",
    )
    lv.add_argument(
        "--no-prefilter",
        action="store_true",
        help="producers send every candidate (no Bloom pre-filter, no keys)",
    )
    lv.add_argument(
        "--saturation",
        type=float,
        default=DEFAULT_SATURATION,
        metavar="RATE",
        help="without --iterations: stop when new uniques per candidate stay below RATE "
        f"(default {DEFAULT_SATURATION}; 0 = run until stopped)",
    )
    lv.add_argument(
        "--saturation-window",
        type=int,
        default=0,
        metavar="N",
        help="candidates in the novelty window (default 20 requests' worth, at least 200)",
    )
    lv.add_argument(
        "--saturation-patience",
        type=float,
        default=DEFAULT_PATIENCE_S,
        metavar="S",
        help=f"seconds the rate must stay below the threshold (default {DEFAULT_PATIENCE_S:g})",
    )
    lv.add_argument(
        "--saturation-patience-requests",
        type=int,
        default=DEFAULT_PATIENCE_REQUESTS,
        metavar="N",
        help="requests the rate must stay below the threshold, as well as the seconds "
        f"(default {DEFAULT_PATIENCE_REQUESTS})",
    )
    lv.add_argument(
        "--target-coverage",
        type=float,
        default=0.0,
        metavar="X",
        help="stop when the estimated coverage of the topic (its lower bound) reaches X, "
        "e.g. 0.95 (default 0 = off; README 'Completeness')",
    )
    lv.add_argument(
        "--no-adaptive",
        action="store_true",
        help="do not measure strategies and shift producers to the best one",
    )
    lv.add_argument(
        "--arms",
        default="",
        metavar="LIST",
        help="adaptive strategy: the prompt arms it may use, comma-separated, from "
        "plain, hot, rare, avoid, focus, avoid_focus (default: all the levers allow "
        "except rare; it starts on plain when listed, else on the first)",
    )
    lv.add_argument(
        "--near-duplicates",
        action="store_true",
        help="also drop near-duplicates the exact key misses (similarity check; counted apart)",
    )
    web = p.add_argument_group("web mode (no --topic)")
    web.add_argument(
        "--control-host", default="127.0.0.1", help="control address (default 127.0.0.1)"
    )
    web.add_argument(
        "--control-port",
        type=int,
        default=DEFAULT_CONTROL_PORT,
        help=f"control port the webserver connects to (default {DEFAULT_CONTROL_PORT}; 0 = any)",
    )
    web.add_argument(
        "--control-token-file",
        type=Path,
        default=DEFAULT_TOKEN_FILE,
        help=f"control token file, created (mode 600) if missing (default {DEFAULT_TOKEN_FILE})",
    )
    web.add_argument(
        "--output-root",
        default="output",
        help="runs write to OUTPUT_ROOT/<topic-slug>/ (default ./output)",
    )
    return p


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message)


def levers_from(args: argparse.Namespace) -> LeverConfig:
    return LeverConfig(
        shared_state=not args.no_shared_state,
        avoid_budget=args.avoid_budget,
        partitions=not args.no_partitions,
        partition_by=args.partition_by,
        prefilter=not args.no_prefilter,
        saturation=args.saturation,
        saturation_window=args.saturation_window,
        saturation_patience_s=args.saturation_patience,
        saturation_patience_requests=args.saturation_patience_requests,
        adaptive=not args.no_adaptive,
        near_duplicates=args.near_duplicates,
        target_coverage=args.target_coverage,
        arms=tuple(a.strip() for a in args.arms.split(",") if a.strip()),
    )


def run_options_from(args: argparse.Namespace) -> RunOptions:
    """The settings that are the orchestrator's, whatever the topic: CLI mode uses
    them for its run, web mode for every run it is asked for."""
    return RunOptions(
        llm=tuple(args.llm),
        env_file=args.env_file,
        record_content=args.record_content,
        adaptive_weights=args.adaptive_weights,
        levers=levers_from(args),
        max_degraded_s=args.max_degraded_s,
    )


def web_settings_from(args: argparse.Namespace) -> WebSettings:
    return WebSettings(
        output_root=Path(args.output_root),
        control_host=args.control_host,
        control_port=args.control_port,
        host=args.host,
        log_dir=Path(args.log_dir) if args.log_dir else None,
        log_level=args.log_level,
        trace_ep=args.trace_ep,
        run_options=run_options_from(args),
    )


def check_listen_address(host: str, port: int, host_option: str, port_option: str) -> None:
    """ConfigError unless ``host`` is an address of this machine and ``port`` is free
    on it (a run would otherwise start and fail with a traceback)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"{host_option} {host}: not a usable address ({reason})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"{port_option} {port} is already in use on {host}; "
                    f"choose another port (0: any free one)"
                ) from None
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                f"check {host_option} and {port_option}"
            ) from None


def parse_config(argv: list[str] | None) -> tuple[argparse.Namespace, RunConfig | None]:
    parser = build_parser()
    parser.__class__ = _Parser
    args = parser.parse_args(argv)
    for name in ("port", "control_port"):
        if not 0 <= getattr(args, name) <= 65535:
            raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 65535")
    try:
        check_tracing_environment(args.trace_ep, os.environ)
    except TracingConfigError as exc:
        raise ConfigError(str(exc)) from exc
    check_log_dir(args.log_dir)
    check_listen_address(args.host, args.port, "--host", "--port")
    if args.topic is None:
        check_listen_address(
            args.control_host, args.control_port, "--control-host", "--control-port"
        )
        validate_levers(levers_from(args))  # web mode: every run uses them
        given = [
            f"--{name.replace('_', '-')}"
            for name in RUN_OPTIONS
            if getattr(args, name) != parser.get_default(name)
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} only apply with --topic; without --topic the orchestrator "
                "runs in web mode and takes run settings from the webserver"
            )
        return args, None
    config = run_options_from(args).run_config(
        topic=args.topic,
        producers=args.producers,
        iterations=args.iterations,
        provider=args.provider,
        request_size=args.request_size,
        output=args.output,
        max_restarts=args.max_restarts,
        sim_latency_ms=args.sim_latency_ms,
        sim_profile=args.sim_profile,
    )
    return args, config


async def _run(args: argparse.Namespace, config: RunConfig) -> int:
    telemetry = configure_tracing(s.SERVICE_ORCHESTRATOR, trace_ep=args.trace_ep)
    env = child_environment(args.trace_ep)
    provider_env = provider_environment(config, env_file=args.env_file)
    if provider_env:  # specs and .env keys reach producers only through their environment
        env = {**(os.environ if env is None else env), **provider_env}
    run = TopicRun(
        config,
        telemetry,
        host=args.host,
        port=args.port,
        log_dir=Path(args.log_dir) if args.log_dir else None,
        log_level=args.log_level,
        env=env,
    )
    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal(signum: int) -> None:
        nonlocal signals_seen
        signals_seen += 1
        name = signal.Signals(signum).name
        if signals_seen == 1:
            run.request_stop(f"{name} received")
        else:
            log.warning("%s again: killing producers now", name)
            for process in run.processes.values():
                process.signal(signal.SIGKILL)

    install_stop_handlers(loop, on_signal)  # SIGINT, SIGTERM, SIGHUP (terminal closed)
    progress = ProgressReporter(
        config.topic,
        run.stats,
        live=None if not args.no_progress else False,
        total_requests=config.producers * config.iterations if config.iterations else None,
    )
    log.info(
        "topic %r: %d producers, iterations %s, provider %s, output %s",
        config.topic,
        config.producers,
        config.iterations or "unlimited",
        config.provider,
        config.attributes_path,
    )
    try:
        progress.start()
        outcome = await run.execute()
    finally:
        await progress.stop()
        telemetry.shutdown()
    print(format_summary(run.summary()), flush=True)
    return outcome.exit_code


def main(argv: list[str] | None = None) -> int:
    try:
        args, config = parse_config(argv)
    except (_ArgumentError, ConfigError) as exc:
        print(f"orchestrator: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if config is None:
        try:
            token = ensure_token(args.control_token_file)
        except TokenFileError as exc:
            print(f"orchestrator: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        try:  # held until the process ends: one run per output folder
            output_lock = OutputLock(config.output_dir).acquire()  # noqa: F841
        except OutputError as exc:
            print(f"orchestrator: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    configure_logging(args.log_level, "orchestrator")
    try:
        if config is None:
            return asyncio.run(serve(web_settings_from(args), token))
        return asyncio.run(_run(args, config))
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
