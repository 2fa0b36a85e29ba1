from collections import Counter

from system.dedup.keys import key_of
from system.producer.parse import parse_response
from system.producer.prompt import build_prompt
from system.providers.simulated import SimulatedModel

TOPIC = "Paris attractions"


def test_same_seed_same_answer_different_seed_differs():
    model = SimulatedModel()
    prompt = build_prompt(TOPIC, 60)
    assert model.complete(prompt, 1).text == model.complete(prompt, 1).text
    assert model.complete(prompt, 1).text != model.complete(prompt, 2).text


def test_universe_is_deterministic_distinct_and_sized_by_topic():
    model = SimulatedModel()
    universe = model.universe(TOPIC)
    assert universe == SimulatedModel().universe(TOPIC)
    assert 300 <= len(universe) <= 900
    assert len({key_of(x) for x in universe}) == len(universe)
    assert model.universe("Rivers of Europe") != universe
    assert abs(sum(model.popularity(TOPIC)) - 1.0) < 1e-9


def test_repeated_requests_collide_and_growth_is_sublinear():
    model = SimulatedModel()
    prompt = build_prompt(TOPIC, 60)
    seen: set[int] = set()
    growth = []
    for seed in range(20):
        seen.update(key_of(x) for x in parse_response(model.complete(prompt, seed).text))
        growth.append(len(seen))
    assert growth[-1] < 20 * 60 * 0.6
    assert growth[9] - growth[0] > growth[19] - growth[10]  # diminishing returns


def test_avoid_list_is_honoured_only_partly():
    model = SimulatedModel()
    top = model.universe(TOPIC)[:30]
    plain = build_prompt(TOPIC, 60)
    avoiding = build_prompt(TOPIC, 60, avoid=top)
    top_keys = {key_of(x) for x in top}

    def repeats(prompt: str) -> int:
        return sum(
            key_of(x) in top_keys
            for seed in range(30)
            for x in parse_response(model.complete(prompt, seed).text)
        )

    with_list, without = repeats(avoiding), repeats(plain)
    assert 0 < with_list < without * 0.7


def test_noise_variants_mostly_normalize_to_universe_items():
    model = SimulatedModel(noise=0.5)
    universe = {key_of(x) for x in model.universe(TOPIC)}
    lines = [
        x
        for s in range(10)
        for x in parse_response(model.complete(build_prompt(TOPIC, 60), s).text)
    ]
    outside = [x for x in lines if key_of(x) not in universe]
    assert all(x.startswith("The ") for x in outside)
    assert 0 < len(outside) < len(lines) * 0.2
    assert len({x for x in lines if key_of(x) in universe}) < len(lines)  # case variants collide


def test_answer_parses_to_about_count_items_and_counts_tokens():
    model = SimulatedModel()
    completion = model.complete(build_prompt(TOPIC, 25), 3)
    assert len(parse_response(completion.text)) == 25
    assert completion.input_tokens > 10 and completion.output_tokens > 25
    longer = model.complete(build_prompt(TOPIC, 25, avoid=model.universe(TOPIC)[:100]), 3)
    assert longer.input_tokens > completion.input_tokens * 5
    assert Counter([completion.finish_reason]) == Counter(["stop"])
