import pytest

from tester.fake_llm import model
from tester.fake_llm.faults import FaultPlan, PlanError, Step, parse_plan


def test_parse_plan():
    assert parse_plan("ok*2, 429*3,down:1.5s,hang") == [
        Step("ok", 2), Step("429", 3), Step("down", seconds=1.5), Step("hang")
    ]  # fmt: skip
    for bad in ("nope", "200", "429*x", "ok:*"):
        with pytest.raises(PlanError):
            parse_plan(bad)


def test_plan_steps_by_count_then_time_then_default_ok():
    plan = FaultPlan(parse_plan("500*2,down:10s"))
    assert [plan.next_step(now=0).kind for _ in range(3)] == ["500", "500", "down"]
    assert plan.next_step(now=9.9).kind == "down"
    assert plan.next_step(now=10.0).kind == "ok"


def test_model_answers_the_requested_count_with_skewed_popularity():
    import random

    prompt = "Intro\nTopic: Rome fountains\nList 7 distinct items, one per line."
    assert model.read_request(prompt) == ("Rome fountains", 7)
    answers = [model.answer_text(prompt, random.Random(i)).splitlines() for i in range(200)]
    assert all(len(a) == 7 and len(set(a)) == 7 for a in answers)
    top = model.universe("Rome fountains")[0]
    tail = model.universe("Rome fountains")[-1]
    hits = lambda name: sum(name in a for a in answers)  # noqa: E731
    assert hits(top) > 5 * max(1, hits(tail))
