from system.levers.shared_state import CHARS_PER_TOKEN, LINE_OVERHEAD, AvoidList
from system.producer.prompt import build_prompt
from system.providers.simulated import parse_prompt


def test_selection_fits_the_token_budget():
    avoid = AvoidList()
    avoid.add(f"Item number {i:04d}" for i in range(1000))
    for budget in (1, 10, 100, 400):
        chosen = avoid.select(None, budget)
        cost = sum(len(item) + LINE_OVERHEAD for item in chosen)
        assert cost <= budget * CHARS_PER_TOKEN
        assert not chosen or cost + len(chosen[0]) + LINE_OVERHEAD > budget * CHARS_PER_TOKEN
    assert avoid.select(None, 0) == []


def test_partition_items_come_first_then_repeated_then_earliest():
    avoid = AvoidList()
    avoid.add(["Zeta Hall", "Alpha Gate", "Beta Park", "Zulu Pier", "Azure Bay"])
    avoid.hit(["beta park", "Beta Park.", "Zulu Pier"])
    chosen = avoid.select("A-F", 1000)
    # outside the partition only what the model repeated: "Zeta Hall" is not worth the tokens
    assert chosen == ["Beta Park", "Alpha Gate", "Azure Bay", "Zulu Pier"]
    assert avoid.select(None, 1000) == [
        "Beta Park", "Zulu Pier", "Zeta Hall", "Alpha Gate", "Azure Bay",
    ]  # fmt: skip


def test_own_answers_are_named_at_once():
    avoid = AvoidList()
    avoid.add(["Louvre"])
    avoid.produced(["louvre", "Orsay", "Pantheon"])  # one known (a hit), two new
    assert len(avoid) == 3
    assert avoid.select(None, 1000) == ["Louvre", "Orsay", "Pantheon"]
    avoid.produced(["Orsay"])
    avoid.produced(["Orsay."])
    assert avoid.select(None, 1000)[0] == "Orsay"  # repeated most now


def test_duplicates_and_empty_items_are_kept_once():
    avoid = AvoidList(capacity=3)
    avoid.add(["Louvre", "- louvre", "", "Orsay", "Pantheon", "Opera"])
    assert len(avoid) == 3 and avoid.select(None, 100) == ["Louvre", "Orsay", "Pantheon"]


def test_prompt_tokens_grow_with_the_avoid_list():
    from system.providers.simulated import SimulatedModel

    model = SimulatedModel()
    avoid = AvoidList()
    avoid.add(model.universe("Rivers")[:300])
    short = model.complete(build_prompt("Rivers", 20), 1)
    long_prompt = build_prompt("Rivers", 20, avoid=avoid.select(None, 400))
    long = model.complete(long_prompt, 1)
    assert len(parse_prompt(long_prompt).avoid) > 20
    assert long.input_tokens > short.input_tokens + 300
    assert abs(long.input_tokens - len(long_prompt) / 4) <= 1
