"""``python -m tester.fake_llm``: serve the simulated model over the OpenAI chat API."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from tester.fake_llm import seeding
from tester.fake_llm.canned import CannedAnswers, CannedError
from tester.fake_llm.faults import FaultPlan, PlanError, parse_plan
from tester.fake_llm.model import MAX_UNIVERSE, UNIVERSE_SIZE
from tester.fake_llm.noise import ALL_KINDS, NoiseConfig
from tester.fake_llm.server import FakeLLMHTTPServer, ServerState

API_KEY_ENV = "FAKE_LLM_API_KEY"


DESCRIPTION = """\
Serve a simulated LLM over the OpenAI chat-completions API (POST
/v1/chat/completions), with faults on demand.
It prints "fake-llm listening on HOST:PORT" once it accepts requests; point
the system at it with --llm name=fake,base_url=http://HOST:PORT/v1,model=fake-model.
"""

EPILOG = """\
fault plan (--plan): steps KIND[*COUNT][:SECONDSs] joined by commas, applied
to the requests in order; a step with neither COUNT nor SECONDS lasts for
ever; once the plan is used up every request is answered normally.
  kinds: ok; an HTTP error status such as 429 (sent with Retry-After), 500 or
         503; down (connection closed, no answer); slow (answer after
         --slow-ms); hang (no answer for --hang-s); garbage (not JSON);
         truncated (JSON cut short); empty (no choices)
  example: --plan 'ok*5,429*3,500*3,down:5s'

exit codes: 0 stopped by Ctrl-C or SIGTERM, 2 bad option or plan.
"""


def build_parser() -> argparse.ArgumentParser:
    from tester.version import version

    p = argparse.ArgumentParser(
        prog="python -m tester.fake_llm",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=0, help="port to listen on (default 0: an ephemeral port)"
    )
    p.add_argument(
        "--model", default="fake-model", help="model name it answers with (default fake-model)"
    )
    p.add_argument(
        "--plan", default="", help="fault plan, see below (default: every request answered)"
    )
    p.add_argument(
        "--retry-after",
        type=float,
        default=1.0,
        metavar="S",
        help="Retry-After seconds sent with 429 and 503 answers (default 1)",
    )
    p.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay before every answer (default 0)",
    )
    p.add_argument(
        "--slow-ms",
        type=float,
        default=2000.0,
        metavar="MS",
        help="delay of the plan's 'slow' steps (default 2000)",
    )
    p.add_argument(
        "--hang-s",
        type=float,
        default=120.0,
        metavar="S",
        help="how long the plan's 'hang' steps hold a request (default 120)",
    )
    p.add_argument(
        "--require-key-env",
        default=None,
        metavar="VAR",
        help=f"demand 'Authorization: Bearer <value of VAR>' (e.g. {API_KEY_ENV}); "
        "401 otherwise (default: no key)",
    )
    p.add_argument(
        "--known",
        type=int,
        default=None,
        metavar="N",
        help="the model knows only the N most popular names of a topic (default: all)",
    )
    p.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="log level on stderr (default info)",
    )
    p.add_argument(
        "--noise",
        default="none",
        help="labelled noise kinds around the items: none, basic, contract, all or a comma "
        f"list of kinds ({', '.join(sorted(ALL_KINDS))}) (default none)",
    )
    p.add_argument(
        "--noise-rate",
        type=float,
        default=0.25,
        help="how often each kind strikes, 0..1 (default 0.25)",
    )
    p.add_argument(
        "--universe",
        type=int,
        default=UNIVERSE_SIZE,
        help=f"exactly N distinct items per topic (default {UNIVERSE_SIZE})",
    )
    p.add_argument(
        "--response-model", default=None, help="model name in answers (default: --model)"
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed of the answers' randomness (default: random)"
    )
    p.add_argument(
        "--answers",
        type=Path,
        default=None,
        metavar="FILE",
        help="serve these answers in turn (a JSON Lines file of strings or of objects with "
        "an 'answer' field) instead of the model's own",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s fake-llm %(levelname)s %(message)s"
    )
    try:
        plan = FaultPlan(parse_plan(args.plan))
        noise = NoiseConfig.parse(args.noise, args.noise_rate)
        if not 1 <= args.universe <= MAX_UNIVERSE:
            raise ValueError(f"--universe must be 1..{MAX_UNIVERSE}")
        canned = CannedAnswers.load(args.answers) if args.answers is not None else None
    except (PlanError, CannedError, ValueError) as exc:
        print(f"fake-llm: error: {exc}", file=sys.stderr)
        return 2
    api_key = None
    if args.require_key_env:
        import os

        api_key = os.environ.get(args.require_key_env) or None
    state = ServerState(
        model_name=args.model,
        plan=plan,
        retry_after=args.retry_after,
        slow_ms=args.slow_ms,
        hang_s=args.hang_s,
        latency_ms=args.latency_ms,
        api_key=api_key,
        known=args.known,
        response_model=args.response_model,
        noise=noise,
        universe_size=args.universe,
        seed=args.seed if args.seed is not None else seeding.new_run_seed(),
        canned=canned,
    )
    server = FakeLLMHTTPServer((args.host, args.port), state)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    state.ledger.server, state.ledger.model, state.ledger.port = f"{host}:{port}", args.model, port
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"fake-llm listening on {host}:{port}", flush=True)
    logging.getLogger("fake_llm").info(
        "model %s, plan %s, seed %d", args.model, plan.describe(), state.seed
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0
