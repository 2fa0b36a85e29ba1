import itertools
import os
import subprocess
import sys

import pytest

from system.dedup.keys import key_of
from system.dedup.normalize import normalize
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt
from system.providers.simulated import SimulatedModel, parse_prompt

TOPIC = "Paris attractions"


def answers(model: SimulatedModel, prompt: str, seeds: range) -> list[list[str]]:
    """Parsed as the producer parses them: with the prompt's topic and partition."""
    request = parse_prompt(prompt)
    context = PromptContext(request.topic, request.partition)
    return [parse_response(model.complete(prompt, seed).text, context=context) for seed in seeds]


def test_same_seed_same_answer_different_seed_differs() -> None:
    model = SimulatedModel()
    prompt = build_prompt(TOPIC, 60)
    assert model.complete(prompt, 1) == model.complete(prompt, 1)
    assert model.complete(prompt, 1) == SimulatedModel().complete(prompt, 1)
    assert model.complete(prompt, 1).text != model.complete(prompt, 2).text
    assert len({model.complete(prompt, seed).text for seed in range(20)}) == 20


def test_answers_are_the_same_in_another_process() -> None:
    prompt = build_prompt(TOPIC, 30, avoid=["Louvre"], partition="A-F")
    code = (
        "import sys\n"
        "from system.providers.simulated import SimulatedModel\n"
        "sys.stdout.write(SimulatedModel().complete(sys.stdin.read(), 7).text)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], input=prompt, capture_output=True, text=True,
        env=env, check=True, timeout=60,
    )  # fmt: skip
    assert out.stdout == SimulatedModel().complete(prompt, 7).text


@pytest.mark.parametrize("topic", [TOPIC, "Rivers of Europe", "Birds", "x", "Jazz albums 1959"])
def test_universe_is_deterministic_distinct_and_sized_by_topic(topic: str) -> None:
    model = SimulatedModel()
    universe = model.universe(topic)
    assert universe == SimulatedModel().universe(topic)
    assert 300 <= len(universe) <= 900
    assert len({normalize(x) for x in universe}) == len(universe)
    assert len({key_of(x) for x in universe}) == len(universe)
    assert not any(x.casefold().startswith("the ") for x in universe)
    assert all(x == " ".join(x.split()) and normalize(x) == x.casefold() for x in universe)


def test_universe_depends_on_the_topic_only() -> None:
    model = SimulatedModel()
    assert model.universe("Rivers of Europe") != model.universe(TOPIC)
    assert model.universe("  paris ATTRACTIONS ") == model.universe(TOPIC)
    sizes = {len(model.universe(f"topic {i}")) for i in range(20)}
    assert len(sizes) > 10  # the size varies with the topic


def test_universe_size_can_be_fixed() -> None:
    model = SimulatedModel(universe_size=50)
    assert len(model.universe(TOPIC)) == 50
    answer = answers(model, build_prompt(TOPIC, 80), range(1, 2))[0]
    assert len(answer) == 50  # never more than the universe holds
    with pytest.raises(ValueError):
        SimulatedModel(universe_size=0)


def test_popularity_is_zipf() -> None:
    model = SimulatedModel(zipf_exponent=1.05)
    weights = model.popularity(TOPIC)
    assert len(weights) == len(model.universe(TOPIC))
    assert abs(sum(weights) - 1.0) < 1e-9
    assert all(a > b for a, b in itertools.pairwise(weights))
    assert weights[0] / weights[9] == pytest.approx(10**1.05)


def test_popular_items_come_back_in_almost_every_answer() -> None:
    model = SimulatedModel()
    universe = model.universe(TOPIC)
    got = [
        {key_of(x) for x in answer} for answer in answers(model, build_prompt(TOPIC, 60), range(40))
    ]
    head = sum(key_of(universe[0]) in keys for keys in got)
    tail = sum(key_of(universe[-1]) in keys for keys in got)
    assert head >= 36 and tail <= 10


def test_repeated_requests_collide_and_growth_is_sublinear() -> None:
    model = SimulatedModel()
    prompt = build_prompt(TOPIC, 60)
    seen: set[int] = set()
    growth = []
    for answer in answers(model, prompt, range(20)):
        seen.update(key_of(x) for x in answer)
        growth.append(len(seen))
    assert growth[-1] < 20 * 60 * 0.6
    assert growth[9] - growth[0] > growth[19] - growth[10]  # diminishing returns
    assert growth[-1] < len(model.universe(TOPIC)) * 1.25  # bounded by the universe (+ "The ")


def test_avoid_list_is_honoured_only_partly() -> None:
    model = SimulatedModel()
    top = model.universe(TOPIC)[:30]
    plain = build_prompt(TOPIC, 60)
    avoiding = build_prompt(TOPIC, 60, avoid=top)
    top_keys = {key_of(x) for x in top}

    def repeats(prompt: str) -> int:
        return sum(
            key_of(x) in top_keys for answer in answers(model, prompt, range(30)) for x in answer
        )

    with_list, without = repeats(avoiding), repeats(plain)
    assert 0 < with_list < without * 0.7
    # obedience 0.6: about 40% of the avoided items that would come back still do
    assert with_list == pytest.approx(without * 0.4, rel=0.35)


def test_avoid_list_is_matched_by_normalized_form() -> None:
    model = SimulatedModel(avoid_obedience=1.0)
    top = model.universe(TOPIC)[:20]
    variants = [f"{i}. {x.upper()}!" for i, x in enumerate(top, 1)]
    got = {
        key_of(x)
        for a in answers(model, build_prompt(TOPIC, 60, avoid=variants), range(10))
        for x in a
    }
    assert not got & {key_of(x) for x in top}


def test_obedience_zero_ignores_the_list() -> None:
    model = SimulatedModel(avoid_obedience=0.0, noise=0.0, realism=0.0)
    avoid = model.universe(TOPIC)[:30]
    plain = [set(a) for a in answers(model, build_prompt(TOPIC, 40), range(5))]
    avoided = [set(a) for a in answers(model, build_prompt(TOPIC, 40, avoid=avoid), range(5))]
    assert plain == avoided


def test_partition_letter_range_biases_but_does_not_restrict() -> None:
    model = SimulatedModel(noise=0.0)

    def share_a_to_f(partition: str | None) -> float:
        items = [
            x
            for a in answers(model, build_prompt(TOPIC, 60, partition=partition), range(20))
            for x in a
        ]
        return sum("A" <= x[0].upper() <= "F" for x in items) / len(items)

    plain, focused = share_a_to_f(None), share_a_to_f("A-F")
    assert focused > plain * 1.3
    assert focused < 0.98


def test_partition_words_bias_toward_matching_items() -> None:
    model = SimulatedModel(noise=0.0)

    def museums(partition: str | None) -> int:
        prompt = build_prompt(TOPIC, 60, partition=partition)
        return sum("Museum" in x for a in answers(model, prompt, range(20)) for x in a)

    assert museums("museums") > museums(None) * 1.5


def test_noise_variants_normalize_to_universe_items() -> None:
    """Every variant, "The X" included (the key drops a leading article), is a universe
    item for the key; the realism decorations too (remarks, descriptions, joined lines)."""
    model = SimulatedModel(noise=1.0)
    universe_keys = {key_of(x) for x in model.universe(TOPIC)}
    for prompt in (build_prompt(TOPIC, 60), build_prompt(TOPIC, 60, partition="A-F")):
        lines = [x for a in answers(model, prompt, range(10)) for x in a]
        assert len(lines) == 600
        assert all(key_of(x) in universe_keys for x in lines)


def test_noise_variants_are_rare_by_default() -> None:
    model = SimulatedModel()
    universe = set(model.universe(TOPIC))
    lines = [x for a in answers(model, build_prompt(TOPIC, 60), range(20)) for x in a]
    changed = [x for x in lines if x not in universe]
    assert 0 < len(changed) < len(lines) * 0.25
    articles = sum(x.startswith("The ") for x in lines)  # REAL_NOISE: ~1 in 10 item lines
    assert len(lines) * 0.04 < articles < len(lines) * 0.15


def test_no_noise_means_exact_universe_names() -> None:
    model = SimulatedModel(noise=0.0, realism=0.0)
    universe = set(model.universe(TOPIC))
    assert all(x in universe for a in answers(model, build_prompt(TOPIC, 60), range(10)) for x in a)


def test_answers_come_in_every_format() -> None:
    model = SimulatedModel()
    texts = [model.complete(build_prompt(TOPIC, 10), seed).text for seed in range(60)]
    first_lines = [t.splitlines()[0] for t in texts]
    assert any(line.startswith("1. ") for line in first_lines)
    assert any(line.startswith(("- ", "* ", "• ")) for line in first_lines)
    assert any(line.endswith(":") for line in first_lines)  # a preamble
    assert any(t.splitlines()[-1].endswith(("!", ".")) and "I" in t for t in texts)


@pytest.mark.parametrize("count", [1, 7, 25, 60])
def test_answer_parses_to_count_items(count: int) -> None:
    model = SimulatedModel()
    for seed in range(30):
        answer = answers(model, build_prompt(TOPIC, count), range(seed, seed + 1))[0]
        assert len(answer) == count
        assert len({key_of(x) for x in answer}) == count


def test_tokens_and_metadata() -> None:
    model = SimulatedModel()
    prompt = build_prompt(TOPIC, 25)
    completion = model.complete(prompt, 3)
    assert completion.input_tokens == len(prompt) // 4
    assert completion.output_tokens == len(completion.text) // 4 > 25
    assert (completion.finish_reason, completion.model) == ("stop", "sim-zipf-1")
    longer = model.complete(build_prompt(TOPIC, 25, avoid=model.universe(TOPIC)[:100]), 3)
    assert longer.input_tokens > completion.input_tokens * 5


def test_unknown_prompts_still_get_an_answer() -> None:
    model = SimulatedModel()
    completion = model.complete("name some birds", 1)
    assert len(parse_response(completion.text)) == 20
    assert parse_prompt("name some birds").topic == "name some birds"
    assert model.complete("", 1).output_tokens >= 1
