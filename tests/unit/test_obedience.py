"""Echo and in-partition counting on answers, and the prompts of the arms."""

from system.levers.strategy.arms import ARMS
from system.levers.strategy.obedience import measure
from system.producer.generation import plan_request
from system.producer.prompt import build_prompt

TOPIC = "States of the United States"


def test_echoes_of_instructions_label_and_avoid_list_are_counted():
    prompt = build_prompt(TOPIC, 30, avoid=["Texas", "Ohio"], partition="A-C")
    answer = "\n".join(
        [
            "Focus on this part of the topic: A-C",  # the focus line
            "A-C",  # the label
            "List 30 distinct items, one per line.",  # the request line, reworded end
            "- Texas",  # an avoided item, copied
            "Alabama",
            "Arizona (the Grand Canyon State)",
            "",
            "Colorado",
        ]
    )
    result = measure(answer, prompt, ["Alabama", "Arizona", "Colorado", "Texas"],
                     topic=TOPIC, partition="A-C")  # fmt: skip
    assert result.lines == 7
    assert result.echoes == 4
    assert result.off_partition == 1  # Texas


def test_an_item_starting_like_an_avoided_item_is_no_echo():
    prompt = build_prompt(TOPIC, 30, avoid=["Virginia"])
    result = measure("West Virginia\nVirginia", prompt, ["West Virginia"], topic=TOPIC)
    assert result.echoes == 1 and result.off_partition == 0


def test_no_partition_means_no_off_partition_count():
    prompt = build_prompt(TOPIC, 30)
    assert measure("Texas\nOhio", prompt, ["Texas", "Ohio"], topic=TOPIC).off_partition == 0


def test_arms_build_their_prompts():
    plain = plan_request(ARMS["plain"], topic=TOPIC, request_size=30, partition="A-C",
                         avoid=["Texas"])  # fmt: skip
    assert plain.partition is None and plain.avoided == 0
    assert "Focus on" not in plain.prompt and "Texas" not in plain.prompt
    both = plan_request(ARMS["avoid_focus"], topic=TOPIC, request_size=30, partition="A-C",
                        avoid=["Texas"])  # fmt: skip
    assert both.partition == "A-C" and both.avoided == 1 and "- Texas" in both.prompt
    rare = plan_request(ARMS["rare"], topic=TOPIC, request_size=30, partition=None, avoid=[])
    assert rare.prompt.splitlines()[-1].startswith("List 30 distinct items, only less typical")
    assert "low probability" in rare.prompt
    hot = plan_request(ARMS["hot"], topic=TOPIC, request_size=30, partition=None, avoid=[])
    assert hot.temperature_delta == 0.3 and hot.prompt == plain.prompt
