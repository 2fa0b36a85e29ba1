"""Input truth: edge values on the CLI and the HTTP API are each refused with a clear error,
and nothing changes (no output folder, no run, no process left)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tester import schema as n
from tester.constellation.web import webserver_command
from tester.scenario import ScenarioContext

#: orchestrator options that must be refused: exit 2, "error" on stderr, no output folder.
#: Known and reported, not listed: --saturation-window 0 is accepted.
CLI_CASES = [
    ["--producers", "0"], ["--producers", "-1"], ["--producers", "999999"],
    ["--producers", "abc"], ["--producers", "1.5"], ["--iterations", "0"],
    ["--iterations", "x"], ["--request-size", "0"], ["--request-size", "1001"],
    ["--avoid-budget", "-1"], ["--saturation", "nan"], ["--saturation", "-1"],
    ["--max-restarts", "-1"], ["--provider", "nope"], ["--llm", "name=x"],
    ["--provider", "env", "--llm", "name=x,model=m"],
    ["--provider", "env", "--llm", "name=x,base_url=http://127.0.0.1:9/v1,model=m,weight=-1"],
    ["--sim-latency-ms", "-5"], ["--topic", "   "],
    # README "LLM providers": --llm fields and the sampling settings' ranges
    *(
        ["--provider", "env", "--llm", f"name=x,base_url=http://127.0.0.1:9/v1,model=m,{bad}"]
        for bad in ("temperature=2.5", "temperature=nan", "top_p=0", "seed=-1",
                    "max_tokens=0", "max_tokens=1000001", "colour=red", "key_env=1-BAD")
    ),
]  # fmt: skip
#: docs/webserver.md: commands refused before anything starts (exit 2, one error line):
#: (program, arguments, extra environment)
START_CASES: list[tuple[str, list[str], dict[str, str]]] = [
    ("webserver", ["--host", "0.0.0.0"], {}),  # not loopback: needs an access token
    ("webserver", [], {"WEBSERVER_ACCESS_TOKEN": "too-short"}),  # 16+ characters
    ("orchestrator", ["--iterations", "3"], {}),  # a per-run option without --topic
]
#: bodies POST /api/runs must refuse with a 4xx and an error text
API_CASES: list[tuple[str, Any]] = [
    ("empty topic", {"topic": "", "producers": 2}),
    ("blank topic", {"topic": "   ", "producers": 2}),
    ("topic not a string", {"topic": 123}),
    ("huge topic", {"topic": "x" * 100_000}),
    ("0 producers", {"topic": "T", "producers": 0}),
    ("negative producers", {"topic": "T", "producers": -1}),
    ("too many producers", {"topic": "T", "producers": 10**12}),
    ("producers as text", {"topic": "T", "producers": "3"}),
    ("producers fractional", {"topic": "T", "producers": 2.5}),
    ("0 iterations", {"topic": "T", "iterations": 0}),
    ("negative iterations", {"topic": "T", "iterations": -5}),
    ("0 request size", {"topic": "T", "request_size": 0}),
    ("huge request size", {"topic": "T", "request_size": 10**9}),
    ("unknown provider", {"topic": "T", "provider": "nope"}),
    ("unknown field", {"topic": "T", "api_key": "sk-nope"}),
    ("not an object", ["T"]),
]
GET_CASES = [
    "/api/runs/not-a-run-id", "/api/runs/" + "0" * 32,
    "/api/runs/" + "0" * 32 + "/attributes?limit=0",
    "/api/runs/" + "0" * 32 + "/attributes?offset=-1",
]  # fmt: skip


def _exit_of(command: list[str], env: dict[str, str]) -> tuple[int | None, str]:
    """Exit code and stderr of a command that must refuse at once."""
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, "did not exit within 60 s"
    return proc.returncode, proc.stderr


def _cli(ctx: ScenarioContext, index: int, args: list[str]) -> dict[str, Any]:
    output = ctx.workdir / "cli" / f"case-{index}"
    argv = ["--topic", "Input truth", "--output", str(output), "--no-progress"]
    constellation = ctx.constellations[0]
    code, err = _exit_of([*constellation.orchestrator_command(), *argv, *args], constellation.env)
    return {"args": args, "exit": code, "stderr": err[-400:], "created": output.exists()}


def _start(
    ctx: ScenarioContext, index: int, case: tuple[str, list[str], dict[str, str]]
) -> dict[str, Any]:
    program, args, env = case
    constellation = ctx.constellations[0]
    token = str(ctx.workdir / "start" / f"case-{index}.token")
    command = (
        [*webserver_command(), "--port", "0", "--control-token-file", token]
        if program == "webserver"
        else [*constellation.orchestrator_command(), "--control-port", "0",
              "--control-token-file", token]
    )  # fmt: skip
    code, err = _exit_of([*command, *args], {**constellation.env, **env})
    return {"args": [program, *args], "exit": code, "stderr": err[-400:], "created": False}


def run(ctx: ScenarioContext) -> None:
    constellation = ctx.constellation()
    with ThreadPoolExecutor(3) as pool:
        cli = list(pool.map(lambda c: _cli(ctx, *c), enumerate(CLI_CASES)))
        (ctx.workdir / "start").mkdir(parents=True, exist_ok=True)
        cli += list(pool.map(lambda c: _start(ctx, *c), enumerate(START_CASES)))
    ctx.fact("cli", cli)
    web = constellation.start_web_mode()
    api: list[dict[str, Any]] = []
    with web.client() as http:
        for what, body in API_CASES:
            r = http.post("/api/runs", json=body)
            api.append({"what": what, "status": r.status_code, "body": r.text[:300]})
        r = http.post(
            "/api/runs", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        api.append({"what": "malformed JSON", "status": r.status_code, "body": r.text[:300]})
        r = http.post("/api/runs", content=b"topic=T", headers={"Content-Type": "text/plain"})
        api.append({"what": "wrong content type", "status": r.status_code, "body": r.text[:300]})
        for path in GET_CASES:
            r = http.get(path)
            api.append({"what": f"GET {path[:60]}", "status": r.status_code, "body": r.text[:300]})
        ctx.fact("runs_after", http.get("/api/runs").json().get("runs"))
    ctx.fact("api", api)
    ctx.fact("output_root_entries", sorted(p.name for p in web.output_root.glob("*")))


def check(ctx: ScenarioContext) -> None:
    bad = []
    for case in ctx.facts["cli"]:
        if case["exit"] != 2 or "error" not in case["stderr"].lower() or case["created"]:
            bad.append(case)
    assert not bad, "CLI edge values not refused cleanly (exit 2, an error, nothing created):\n" + (
        "\n".join(
            f"  {c['args']}: exit {c['exit']}, created {c['created']}, "
            f"stderr {c['stderr'][-160:]!r}"
            for c in bad
        )
    )
    refused = []
    for case in ctx.facts["api"]:
        status = case["status"]
        if not 400 <= status < 500 or "error" not in case["body"]:
            refused.append(case)
    assert not refused, "HTTP edge values not refused with a 4xx and an error text:\n" + (
        "\n".join(f"  {c['what']}: HTTP {c['status']} {c['body'][:160]!r}" for c in refused)
    )
    assert ctx.facts["runs_after"] == [], f"refused requests left runs: {ctx.facts['runs_after']}"
    leftovers = [e for e in ctx.facts["output_root_entries"] if not e.startswith(".")]
    assert not leftovers, f"refused requests created output: {leftovers}"
    runs = [s for s in ctx.store.all() if s.name == n.TOPIC_RUN]
    assert not runs, f"a refused request started a topic.run: {runs[:2]}"
    ctx.note(
        f"{len(ctx.facts['cli'])} CLI and {len(ctx.facts['api'])} HTTP edge values refused; "
        "no run, no output"
    )
