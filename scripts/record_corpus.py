"""Record a corpus of real answers from a real small LLM, with the system's own prompts.

Why: the producer's parser and the dedup normalization were written against
the simulated model. This script asks a real model (by default
SmolLM2-135M-Instruct served by ``llama_cpp.server``, started here on a free
port) the producer's exact prompts (``system.producer.prompt.build_prompt``)
with and without letter partitions (the labels ``PartitionManager`` forms
for 2, 3, 4 and 6 producers) and with avoid lists chosen by the producer's
own ``AvoidList`` from the answers recorded so far for the topic (budget
400 tokens, the default). Each answer is one JSON line:
``prompt``, ``params`` (topic, partition, avoid, request size, sampling),
``answer``, ``model``, ``time`` (UTC start) plus ``elapsed_s``,
``finish_reason`` and ``usage``.

    .venv/bin/python scripts/record_corpus.py                 # the committed corpus
    .venv/bin/python scripts/record_corpus.py --answers 20 --out /tmp/c.jsonl

The plan is deterministic (``--seed``); the model's answers are deterministic
for a given seed and llama.cpp build, but not across builds.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import string
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from system.levers.partitions.manager import LETTER_WEIGHTS, _label, split_letters
from system.levers.shared_state import AvoidList
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt

DEFAULT_MODEL = "/tmp/smol/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests/data/real_corpus/answers.jsonl"

#: open topics and closed universes (the kinds the issue names)
TOPICS = (
    "Paris attractions",
    "Italian dishes",
    "planets and dwarf planets of the Solar System",
    "chemical elements",
    "US states",
    "EU member states",
    "Olympic sports",
)
TEMPERATURES = (0.2, 0.7, 1.0, 1.3)
#: what a request looks like: (partition?, avoid list?)
SHAPES = ((False, False), (True, False), (False, True), (True, True))
AVOID_BUDGET = 400


def letter_labels() -> list[str]:
    """Every letter-range label the orchestrator forms for 2, 3, 4 and 6 producers."""
    labels: list[str] = []
    for parts in (2, 3, 4, 6):
        for letters in split_letters(string.ascii_uppercase, parts, LETTER_WEIGHTS):
            label = _label(letters)
            if label not in labels:
                labels.append(label)
    return labels


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: str, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "4096", "--chat_format", "chatml",
        "--n_threads", str(threads),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("llama_cpp.server did not become ready within 120 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=280)
    parser.add_argument("--request-size", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--base-url", help="an already running OpenAI-compatible server (…/v1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (--n_threads)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the answers already in --out and record the rest of the plan after them",
    )
    parser.add_argument(
        "--start", type=int, default=None,
        help="with --resume: the first plan entry to record (default: where the file ends); "
        "several recorders can append disjoint ranges of the plan to one file",
    )  # fmt: skip
    parser.add_argument("--avoid-budget", type=int, default=AVOID_BUDGET, help="tokens")
    parser.add_argument(
        "--topics", default=None,
        help="';'-separated topics instead of the default plan's (a plan of its own: record "
        "to another --out, not with --resume on the default file)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    topics = TOPICS
    if args.topics:
        topics = tuple(t.strip() for t in args.topics.split(";") if t.strip())

    rng = random.Random(args.seed)
    labels = letter_labels()
    avoids = {topic: AvoidList() for topic in topics}
    proc = None
    base = args.base_url
    if base is None:
        proc, base = start_server(args.model, args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model_name = Path(args.model).name
    done: dict[int, dict] = {}  # plan index -> record (records before plan_index: file order)
    if args.resume and args.out.exists():
        lines = args.out.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            record = json.loads(line)
            done[record.get("plan_index", number)] = record
    try:
        with (
            args.out.open("a" if done else "w", encoding="utf-8") as out,
            httpx.Client(timeout=300) as client,
        ):
            for n in range(args.answers):
                topic = topics[n % len(topics)]
                shape = SHAPES[(n // len(topics)) % len(SHAPES)]
                partition = rng.choice(labels) if shape[0] else None
                seed = rng.randrange(1, 2**31)
                context = PromptContext(topic, partition)
                if n in done:  # replay what the file holds of the plan
                    avoids[topic].produced(parse_response(done[n]["answer"], context=context))
                    continue
                if args.start is not None and n < args.start:
                    continue
                avoid = avoids[topic].select(partition, args.avoid_budget) if shape[1] else []
                temperature = TEMPERATURES[(n // (len(topics) * len(SHAPES))) % len(TEMPERATURES)]
                prompt = build_prompt(topic, args.request_size, avoid=avoid, partition=partition)
                body = {
                    "model": model_name,
                    "messages": [{"role": "user", "content": prompt}],
                    "temperature": temperature,
                    "top_p": 0.95,
                    "seed": seed,
                    "max_tokens": args.max_tokens,
                }
                started = datetime.now(UTC)
                t0 = time.monotonic()
                response = client.post(f"{base}/chat/completions", json=body)
                response.raise_for_status()
                data = response.json()
                answer = data["choices"][0]["message"]["content"] or ""
                avoids[topic].produced(parse_response(answer, context=context))
                record = {
                    "plan_index": n,
                    "prompt": prompt,
                    "params": {
                        "topic": topic,
                        "partition": partition,
                        "avoid": avoid,
                        "request_size": args.request_size,
                        "temperature": temperature,
                        "top_p": 0.95,
                        "seed": seed,
                        "max_tokens": args.max_tokens,
                        "avoid_budget": args.avoid_budget,
                    },
                    "answer": answer,
                    "model": data.get("model", model_name),
                    "time": started.isoformat(timespec="seconds"),
                    "elapsed_s": round(time.monotonic() - t0, 2),
                    "finish_reason": data["choices"][0].get("finish_reason"),
                    "usage": data.get("usage", {}),
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                print(
                    f"{n + 1}/{args.answers} {topic!r} t={temperature} "
                    f"part={partition} avoid={len(avoid)} {record['elapsed_s']}s",
                    flush=True,
                )
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
