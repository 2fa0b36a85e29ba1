"""The oracle: judge a run against the truth the tester holds (the fake model's ledger).

    oracle = Oracle(topic, [ledger_a, ledger_b])
    oracle.assert_protocol(breaker_failures=3, breaker_cooldown=1.0)
    oracle.assert_parsed()            # each answer gave the contract's candidates
    oracle.assert_no_silent_loss(path)
    oracle.assert_no_junk(path)

Every check reads the ledger (what the model really was asked and said, on
the server's clock), the spans and the output files; never the system's own
counters alone. A failure names the ledger lines and the spans around it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from tester import schema as n
from tester.collector import Span
from tester.fake_llm.ledger import Entry, Ledger
from tester.oracle.attempts import CANCELLED, GAVE_UP, Attempt, attempts
from tester.oracle.keys import key
from tester.oracle.matching import compatible, match
from tester.topic import Topic
from tester.topic.evidence import span_tree

SLACK_S = 0.02
STOP_GRACE_S = 1.0  # a Stop reaches a producer within this, even on a loaded machine
HOT_DELTA = 0.3  # the adaptive strategy's hot arm raises the temperature by this much
#: prompt arms (docs/tracing.md, adaptive strategy): may the prompt carry (avoid list, partition)
ARM_SHAPES = {
    "plain": (False, False), "hot": (False, False), "rare": (False, False),
    "avoid": (True, False), "focus": (False, True), "avoid_focus": (True, True),
}  # fmt: skip  # timer granularity between the server's and the producer's clocks


class OracleFailure(AssertionError):
    """The system disagrees with the truth in the ledger."""


def describe_entry(entry: Entry, lines: bool = False) -> str:
    head = (
        f"ledger #{entry.seq} arrival {entry.arrival:.3f} outcome {entry.outcome} "
        f"status {entry.status} answered "
        f"{'-' if entry.answered is None else f'{entry.answered:.3f}'}"
    )
    if entry.retry_after is not None:
        head += f" retry-after {entry.retry_after:g}s"
    if entry.served:
        head += f" model {entry.response_model} usage {entry.usage}"
    if lines:
        for line in entry.lines:
            items = ", ".join(c.display for c in line.items)
            head += f"\n    {line.label:5} {line.kind:14} {line.text!r}" + (
                f" -> {items}" if items else ""
            )
    return head


class Oracle:
    def __init__(
        self, topic: Topic | None, ledgers: Sequence[Ledger], spans: list[Span] | None = None
    ):
        self.topic = topic
        self.ledgers = list(ledgers)
        self.spans = spans if spans is not None else (topic.all_spans() if topic else [])
        self.by_id = {s.span_id: s for s in self.spans}
        self.children: dict[str, list[Span]] = defaultdict(list)
        for span in self.spans:
            if span.parent_span_id:
                self.children[span.parent_span_id].append(span)
        self.attempts = attempts(self.spans)
        self.matches = [match(ledger, self.attempts) for ledger in self.ledgers]

    # ------------------------------------------------------------ helpers
    def _fail(
        self, message: str, entries: Iterable[Entry] = (), spans: Iterable[Span] = ()
    ) -> None:
        shown = list(entries)[:6]
        lines = "\n".join("  " + describe_entry(e, lines=True) for e in shown)
        tree_spans: list[Span] = []
        for span in list(spans)[:6]:
            tree_spans.append(span)
            parent = self.by_id.get(span.parent_span_id or "")
            if parent is not None:
                tree_spans.append(parent)
            tree_spans += self.children.get(span.span_id, [])
        tree = span_tree(list(dict.fromkeys(tree_spans)), highlight=[s.span_id for s in spans])
        raise OracleFailure(
            f"{message}"
            + (f"\n\nledger (the fake model's truth):\n{lines}" if lines else "")
            + (f"\n\nspans around it:\n{tree}" if tree_spans else "")
        )

    def pairs(self) -> list[tuple[Entry, Attempt]]:
        return [p for m in self.matches for p in m.pairs]

    def served_entries(self) -> list[Entry]:
        return [e for ledger in self.ledgers for e in ledger.entries if e.served]

    def _cycle(self, attempt: Attempt) -> Span | None:
        return self.by_id.get(attempt.cycle_id or "")

    def _batch_of(self, cycle: Span) -> Span | None:
        for span in self.children.get(cycle.span_id, ()):
            if span.name == n.BATCH_RECEIVE:
                return span
        return None

    # ------------------------------------------------------------ protocol truth
    def assert_matched(self, *, excuse: Iterable[tuple[float, float]] = ()) -> Oracle:
        """Every request the server saw is an attempt span, with the same outcome, model and
        usage, and every attempt span to a fake server is a request it saw. ``excuse``:
        time windows (start, end) where a killed process may have taken its spans along."""
        windows = list(excuse)

        def excused(entry: Entry) -> bool:
            end = entry.answered if entry.answered is not None else entry.arrival
            return any(entry.arrival <= b and end >= a for a, b in windows)

        for m in self.matches:
            lost = [e for e in m.unmatched_entries if not excused(e)]
            if lost:
                near = list(dict.fromkeys(
                    a.span for a in m.candidates
                    if a.start - 1 <= lost[0].arrival <= a.end + 1
                ))[:6]  # fmt: skip
                self._fail(
                    f"{len(lost)} request(s) answered by the fake server on port {m.ledger.port} "
                    "have no chat span reporting that answer (same time, outcome, "
                    "gen_ai.response.model and token usage, and a generation.cycle whose "
                    "generation.partition and generation.avoid_items are the prompt's); "
                    "nearest chat spans marked",
                    lost,
                    near,
                )
            # a request cancelled by a stop may never have reached the server
            strays = [
                a for a in m.unmatched_attempts
                if a.error_type != CANCELLED
                and not (a.abandoned and any(x <= a.end and a.start <= y for x, y in windows))
            ]  # fmt: skip
            if strays:
                m.unmatched_attempts = strays
                self._fail(
                    f"{len(m.unmatched_attempts)} chat span(s) to port {m.ledger.port} match no "
                    "request the server saw: "
                    + "; ".join(a.describe() for a in m.unmatched_attempts[:5]),
                    [e for e in m.ledger.entries
                     if abs(e.arrival - m.unmatched_attempts[0].start) < 1][:4],
                    [a.span for a in m.unmatched_attempts],
                )  # fmt: skip
        return self

    def status_counts(self) -> dict[str, dict[str, int]]:
        return {
            m.ledger.config.get("name", str(m.ledger.port)): dict(
                Counter(e.outcome for e in m.ledger.entries)
            )
            for m in self.matches
        }

    def assert_timing(
        self,
        *,
        breaker_failures: int | None = None,
        breaker_cooldown: float | None = None,
    ) -> Oracle:
        """Per producer and server, on the server's clock: after a Retry-After the next request
        waits it out; after ``breaker_failures`` consecutive failures the next waits the
        cooldown; no request arrives after the producer's run or the topic run ended."""
        by_route: dict[tuple[int | None, int], list[tuple[Entry, Attempt]]] = defaultdict(list)
        #: the latest arrival an attempt may have had: requests without a response id
        #: (a dropped connection, an error page) pair by time, and two producers'
        #: failures a few ms apart can be paired either way; a request is "too early"
        #: only if every server entry it could be was
        latest: dict[int, float] = {}
        for m in self.matches:
            for entry, attempt in m.pairs:
                by_route[(attempt.producer, m.ledger.port)].append((entry, attempt))
                candidates = [e.arrival for e in m.ledger.entries if compatible(e, attempt)]
                latest[id(attempt)] = max(candidates, default=entry.arrival)
        for (producer, port), pairs in by_route.items():
            pairs.sort(key=lambda p: p[0].arrival)
            failures = 0
            for (prev, prev_attempt), (nxt, nxt_attempt) in itertools.pairwise(pairs):
                failed_at = prev.answered if prev.answered is not None else prev_attempt.end
                failed_at = min(failed_at, prev_attempt.end)
                if prev.served:
                    failures = 0
                    continue
                failures += 1
                arrival = max(nxt.arrival, latest[id(nxt_attempt)])
                if (
                    prev.retry_after is not None
                    and arrival < failed_at + prev.retry_after - SLACK_S
                ):
                    self._fail(
                        f"producer {producer} called port {port} again "
                        f"{arrival - failed_at:.3f}s after a Retry-After of "
                        f"{prev.retry_after:g}s (server clock)",
                        [prev, nxt],
                        [prev_attempt.span, nxt_attempt.span],
                    )
                if (
                    breaker_failures is not None
                    and breaker_cooldown is not None
                    and failures >= breaker_failures
                    and arrival < failed_at + breaker_cooldown - SLACK_S
                ):
                    self._fail(
                        f"producer {producer} called port {port} {arrival - failed_at:.3f}s "
                        f"after its {failures}th consecutive failure: its circuit breaker "
                        f"(breaker_failures={breaker_failures}) should have kept it out for "
                        f"{breaker_cooldown:g}s",
                        [prev, nxt],
                        [prev_attempt.span, nxt_attempt.span],
                    )
        self._assert_nothing_after_stop()
        return self

    def _assert_no_cycle_after_stop(self) -> None:
        """Told to stop (``producers.stop``), a producer starts no new request: the model
        sees none from a cycle that began more than STOP_GRACE_S after the stop."""
        stops = [s for s in self.spans if s.name == n.PRODUCERS_STOP]
        if not stops:
            return
        stop = min(s.start_ns for s in stops) / 1e9
        for entry, attempt in self.pairs():
            cycle = self._cycle(attempt)
            if cycle is None or cycle.trace_id != stops[0].trace_id:
                continue
            if cycle.start_ns / 1e9 > stop + STOP_GRACE_S and entry.arrival > stop + STOP_GRACE_S:
                self._fail(
                    f"producer {attempt.producer} started a new request "
                    f"{cycle.start_ns / 1e9 - stop:.2f}s after it was told to stop "
                    "(producers.stop), and the model got it",
                    [entry],
                    [cycle, *stops[:1]],
                )

    def _assert_nothing_after_stop(self) -> None:
        self._assert_no_cycle_after_stop()
        runs = {
            int(s.attr(n.PRODUCER_ID)): s
            for s in self.spans
            if s.name == n.PRODUCER_RUN and s.attr(n.PRODUCER_ID) is not None
        }
        if self.topic is not None:
            end = self.topic.root.end_ns / 1e9
            late = [e for ledger in self.ledgers for e in ledger.entries if e.arrival > end]
            roots = {s.trace_id for s in self.spans if s.name == n.TOPIC_RUN}
            if late and len(roots) <= 1:
                self._fail(
                    f"{len(late)} request(s) reached the model after the run ended "
                    f"(topic.run ended {end:.3f})",
                    late,
                    [self.topic.root],
                )
        for entry, attempt in self.pairs():
            run = runs.get(attempt.producer or -1)
            if attempt.abandoned or attempt.error_type in GAVE_UP:
                continue  # given up: the server may read it late, the producer did not wait
            if (
                run is not None
                and run.trace_id == attempt.span.trace_id
                and (entry.arrival > run.end_ns / 1e9 + SLACK_S)
            ):
                self._fail(
                    f"a request from producer {attempt.producer} arrived after its producer.run "
                    "ended",
                    [entry],
                    [run, attempt.span],
                )

    # ------------------------------------------------------------ discovery truth
    def delivered(self) -> list[tuple[Entry, Span, Span | None]]:
        """(entry, its cycle, the cycle's batch.receive or None) for every item answer."""
        out = []
        for entry, attempt in self.pairs():
            if not entry.served or entry.asked.get("kind") != "items":
                continue
            cycle = self._cycle(attempt)
            if cycle is None or cycle.name != n.GENERATION_CYCLE:
                continue
            out.append((entry, cycle, self._batch_of(cycle)))
        return out

    def assert_parsed(self) -> Oracle:
        """Each answer gave exactly the candidates the parser contract says it holds."""
        for entry, cycle, _batch in self.delivered():
            expected = len(entry.candidates())
            got = cycle.attr("generation.candidates")
            if got is not None and int(got) != expected:
                self._fail(
                    f"generation.cycle parsed {got} candidate(s) from an answer whose lines hold "
                    f"{expected} item(s) under the parser contract (docs/tracing.md)",
                    [entry],
                    [cycle],
                )
        return self

    def served_keys(self) -> dict[str, set[str]]:
        """key -> the display forms the contract gives, over every answer served."""
        found: dict[str, set[str]] = defaultdict(set)
        for entry in self.served_entries():
            if entry.asked.get("kind") != "items":
                continue
            for candidate in entry.candidates():
                found[key(candidate.display)].add(candidate.display)
        return found

    def assert_no_silent_loss(
        self, path: Path, *, near_duplicates: Path | None = None, extra_files: Sequence[Path] = ()
    ) -> Oracle:
        """Every item of every answer whose batch reached the orchestrator is in the file
        exactly once (under the documented normalization)."""
        lines = _lines(path)
        for extra in extra_files:
            lines += _lines(extra)
        keys = Counter(key(line) for line in lines)
        twice = {k: c for k, c in keys.items() if c > 1}
        if twice:
            sample = ", ".join(f"{k!r} x{c}" for k, c in list(twice.items())[:8])
            self._fail(f"{path}: {len(twice)} item(s) written more than once: {sample}")
        excused = {key(x) for x in _lines(near_duplicates)} if near_duplicates else set()
        for entry, cycle, batch in self.delivered():
            if batch is None:
                continue
            missing = [
                c for c in entry.candidates()
                if key(c.display) not in keys and key(c.display) not in excused
            ]  # fmt: skip
            if missing:
                self._fail(
                    f"{len(missing)} item(s) the model served and whose batch the orchestrator "
                    f"received are not in {path.name}: "
                    + ", ".join(repr(c.display) for c in missing[:8]),
                    [entry],
                    [batch, cycle],
                )
        return self

    def assert_no_junk(self, path: Path, *, allowed: Iterable[str] = ()) -> Oracle:
        """Every line of the file is an item the model served, in a form the contract gives
        it: no noise line, no echo, nothing the model never said."""
        served = self.served_keys()
        allowed_keys = {key(x) for x in allowed}
        for line in _lines(path):
            k = key(line)
            if k in allowed_keys:
                continue
            if k not in served:
                entries = [
                    e for e in self.served_entries()
                    if any(line.strip() and line.strip() in x.text for x in e.lines)
                ]  # fmt: skip
                self._fail(
                    f"{path.name} has {line!r}, which is no item the model served "
                    "(noise, an echo, or a line it never said)",
                    entries[:3],
                )
            elif line not in served[k]:
                self._fail(
                    f"{path.name} writes {line!r}, but the model served that item only as "
                    f"{sorted(served[k])[:4]} (display = the first candidate's cleaned form)"
                )
        return self

    # ------------------------------------------------------------ levers and stop
    def item_requests(self) -> list[Entry]:
        return [
            e
            for ledger in self.ledgers
            for e in ledger.entries
            if e.asked.get("kind") == "items" and e.path.endswith("/chat/completions")
        ]

    def assert_prompts(
        self,
        *,
        partitions: bool | None = None,
        avoid_budget_tokens: int | None = None,
        shared_state: bool | None = None,
    ) -> Oracle:
        """What the prompts really asked for, against the configuration and the spans."""
        requests = self.item_requests()
        with_focus = [e for e in requests if e.asked.get("partition")]
        if partitions is False and with_focus:
            self._fail("partitions are off but prompts name a part of the topic", with_focus[:2])
        if partitions is True and not with_focus:
            self._fail("partitions are on but no prompt named a part of the topic", requests[:2])
        with_avoid = [e for e in requests if e.asked.get("avoid")]
        if shared_state is False and with_avoid:
            self._fail("shared state is off but prompts carry an avoid list", with_avoid[:2])
        if shared_state is True and len(requests) > 8 and not with_avoid:
            self._fail("shared state is on but no prompt carried an avoid list", requests[-2:])
        if shared_state is True:
            self._assert_shared()
        if avoid_budget_tokens is not None:
            limit = avoid_budget_tokens * 4
            for entry in with_avoid:
                size = sum(len(item) + 3 for item in entry.asked["avoid"])
                if size > limit * 1.25 + 40:
                    self._fail(
                        f"a prompt's avoid list is {size} characters, over the budget of "
                        f"{avoid_budget_tokens} tokens (~{limit} characters)",
                        [entry],
                    )
        for entry, attempt in self.pairs():
            cycle = self._cycle(attempt)
            if (
                cycle is None
                or cycle.name != n.GENERATION_CYCLE
                or entry.asked.get("kind") != "items"
                or not entry.served  # the cycle describes its answering attempt's prompt
            ):
                continue
            claimed = cycle.attr("generation.avoid_items")
            if claimed is not None and int(claimed) != len(entry.asked.get("avoid") or []):
                self._fail(
                    f"generation.avoid_items says {claimed}, the prompt the model got named "
                    f"{len(entry.asked.get('avoid') or [])} item(s)",
                    [entry],
                    [cycle],
                )
            self._assert_arm(entry, attempt, cycle)
            part = cycle.attr("generation.partition")
            asked = entry.asked.get("partition")
            if part is not None and (part or None) != (asked or None):
                self._fail(
                    f"generation.partition says {part!r}, the prompt asked for {asked!r}",
                    [entry],
                    [cycle],
                )
        return self

    def _assert_shared(self) -> None:
        """With shared state, producers learn what the others found: some prompt of a producer
        names an item only other producers had been served by then (not its own finds)."""
        served = sorted(
            ((e, a) for e, a in self.pairs() if e.asked.get("kind") == "items"),
            key=lambda p: p[0].arrival,
        )
        producers = {a.producer for _, a in served}
        if len(producers) < 2 or len(served) < 4 * len(producers):
            return
        own: dict[int | None, set[str]] = defaultdict(set)
        for entry, attempt in served:
            foreign = [
                x for x in entry.asked.get("avoid") or [] if key(x) not in own[attempt.producer]
            ]
            if foreign:
                return
            if entry.served:
                own[attempt.producer] |= {key(c.display) for c in entry.candidates()}
        self._fail(
            "shared state is on, but no prompt ever named an item another producer found: "
            "producers only avoid their own finds (new uniques are not shared)",
            [e for e, _ in served[-2:]],
        )

    def _assert_arm(self, entry: Entry, attempt: Attempt, cycle: Span) -> None:
        """The adaptive strategy's arm on the cycle is the prompt the model really got."""
        arm = attempt.arm
        if arm not in ARM_SHAPES:
            return
        wants_avoid, wants_focus = ARM_SHAPES[arm]
        has_avoid = bool(entry.asked.get("avoid"))
        has_focus = bool(entry.asked.get("partition"))
        if (has_avoid and not wants_avoid) or (has_focus and not wants_focus):
            self._fail(
                f"generation.arm {arm!r}, but the prompt the model got had "
                f"{'an avoid list' if has_avoid else ''}"
                f"{' and ' if has_avoid and has_focus else ''}"
                f"{'a partition' if has_focus else ''}",
                [entry],
                [cycle],
            )

    def assert_sampling(self, configured: dict[str, dict[str, float]]) -> Oracle:
        """Every request a server got carries its provider's configured sampling settings
        (server name -> {"temperature": t, "top_p": p, ...}); the ``hot`` arm's requests,
        and only they, have the temperature raised by HOT_DELTA; the chat span reports
        the temperature the server got."""
        for m in self.matches:
            wanted = configured.get(str(m.ledger.config.get("name")))
            if wanted is None:
                continue
            attempts_of = {e.seq: a for e, a in m.pairs}
            for entry in m.ledger.entries:
                if entry.asked.get("kind") != "items":
                    continue
                attempt = attempts_of.get(entry.seq)
                hot = attempt is not None and attempt.arm == "hot"
                for name, value in wanted.items():
                    expected = (
                        round(value + HOT_DELTA, 3) if hot and name == "temperature" else value
                    )
                    got = entry.sampling.get(name)
                    if got is None or abs(float(got) - expected) > 1e-9:
                        self._fail(
                            f"{m.ledger.config.get('name')}: a request sent {name}={got}, the "
                            f"configuration says {expected}"
                            + (" (the hot arm: +0.3)" if hot else ""),
                            [entry],
                            [attempt.span] if attempt else [],
                        )
                if attempt is not None and entry.served and "temperature" in entry.sampling:
                    claimed = attempt.span.attr("gen_ai.request.temperature")
                    if (
                        claimed is not None
                        and abs(float(claimed) - entry.sampling["temperature"]) > 1e-9
                    ):
                        self._fail(
                            f"gen_ai.request.temperature says {claimed}, the server got "
                            f"{entry.sampling['temperature']}",
                            [entry],
                            [attempt.span],
                        )
        return self

    def assert_avoid_known(self, path: Path) -> Oracle:
        """Items in avoid lists are items already found (in the file), never invented."""
        keys = {key(x) for x in _lines(path)}
        for entry in self.item_requests():
            strangers = [x for x in entry.asked.get("avoid") or [] if key(x) not in keys]
            if strangers:
                self._fail(f"avoid list names items never found: {strangers[:5]}", [entry])
        return self

    def assert_support(self, jsonl: Path, *, exact: bool = True) -> Oracle:
        """attributes.jsonl's counts are the ledger's: ``sightings`` = answers that held the
        item (once per answer, whatever line or spelling), ``producers`` and ``providers`` =
        the distinct ones that were served it, over the answers whose batch the orchestrator
        received (pre-filtered repeats included: the producer still saw them). ``exact``
        False (a resumed file, where a crash loses the counts since the last rewrite; a
        killed process, which takes its spans along): sightings and providers at most what
        was served at all (a resumed ``producers`` is restored as that many low bits)."""
        answers: dict[str, set[tuple[int, int]]] = defaultdict(set)
        producers: dict[str, set[object]] = defaultdict(set)
        providers: dict[str, set[str]] = defaultdict(set)
        for m in self.matches:
            name = str(m.ledger.config.get("name", m.ledger.port))
            paired = {entry.seq: attempt for entry, attempt in m.pairs}
            for entry in m.ledger.entries:
                if not entry.served or entry.asked.get("kind") != "items":
                    continue
                attempt = paired.get(entry.seq)
                cycle = self._cycle(attempt) if attempt is not None else None
                if exact and (
                    cycle is None
                    or cycle.name != n.GENERATION_CYCLE
                    or self._batch_of(cycle) is None
                ):
                    continue  # never reached the orchestrator
                # not exact: every answer served may have counted (its spans may be lost)
                producer = attempt.producer if attempt is not None else ("?", entry.seq)
                for candidate in entry.candidates():
                    k = key(candidate.display)
                    answers[k].add((m.ledger.port, entry.seq))
                    producers[k].add(producer)
                    providers[k].add(name)
        if not Path(jsonl).exists():
            self._fail(f"{jsonl} does not exist (attributes.jsonl is written beside the file)")
        wrong = []
        for raw in Path(jsonl).read_text(encoding="utf-8").splitlines():
            record = json.loads(raw)
            k = key(str(record["display"]))
            truth = (len(answers[k]), len(producers[k]), len(providers[k]))
            said = (record["sightings"], record["producers"], record["providers"])
            # a resumed count of producers is restored as that many low bits (any ids)
            above = said[0] > truth[0] or said[2] > truth[2]
            if (said != truth) if exact else above:
                wrong.append(f"{record['display']!r} says {said}, the ledger {truth}")
        if wrong:
            self._fail(
                f"{len(wrong)} attributes.jsonl record(s) disagree with the ledger on (sightings, "
                f"producers, providers){'' if exact else ' (more than served)'}: "
                + "; ".join(wrong[:5])
            )
        return self

    def shares(self) -> dict[str, float]:
        """Share of served item answers per fake server (by its configured name)."""
        counts = {
            ledger.config.get("name", str(ledger.port)): sum(
                1 for e in ledger.entries if e.served and e.asked.get("kind") == "items"
            )
            for ledger in self.ledgers
        }
        total = sum(counts.values()) or 1
        return {name: c / total for name, c in counts.items()}

    def universe_found(self, path: Path, universe: Iterable[str]) -> float:
        keys = {key(x) for x in _lines(path)}
        names = list(universe)
        return sum(1 for x in names if key(x) in keys) / max(1, len(names))


def _lines(path: Path | None) -> list[str]:
    if path is None or not Path(path).exists():
        return []
    return [x for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
