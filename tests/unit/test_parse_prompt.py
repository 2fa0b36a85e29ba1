from system.producer.prompt import build_prompt
from system.providers.simulated import parse_prompt


def test_prompt_round_trips_through_the_simulated_reader():
    prompt = build_prompt("Paris attractions", 42, avoid=["Louvre", "Orsay"], partition="A-F")
    request = parse_prompt(prompt)
    assert request.topic == "Paris attractions"
    assert request.count == 42
    assert request.avoid == ("Louvre", "Orsay")
    assert request.partition == "A-F"


def test_plain_prompt_has_no_avoid_list_or_partition():
    request = parse_prompt(build_prompt("Rivers", 5))
    assert (request.avoid, request.partition) == ((), None)


def test_unknown_prompt_shape_is_tolerated():
    request = parse_prompt("tell me about birds")
    assert request.topic == "tell me about birds" and request.count == 20
