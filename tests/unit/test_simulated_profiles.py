"""The simulated LLM's profiles: ``weak`` (the default) and ``strong``; ``--sim-profile``."""

from __future__ import annotations

import pytest

from system.dedup.normalize import normalize
from system.orchestrator.cli import main as orchestrator_main
from system.orchestrator.cli import parse_config
from system.orchestrator.config import (
    DEFAULT_SIM_PROFILE,
    SIM_PROFILES,
    ConfigError,
    build_run_config,
)
from system.producer.parse import PromptContext, parse_response
from system.producer.prompt import build_prompt
from system.providers.registry import create_provider
from system.providers.simulated import DEFAULT_PROFILE, PROFILES, SimulatedModel, parse_prompt

TOPIC = "Harbours"


def answers(model: SimulatedModel, prompt: str, seeds: range) -> list[list[str]]:
    """Parsed as the producer parses them: with the prompt's topic and partition."""
    request = parse_prompt(prompt)
    context = PromptContext(request.topic, request.partition)
    return [parse_response(model.complete(prompt, seed).text, context=context) for seed in seeds]


def in_range(item: str, low: str = "A", high: str = "F") -> bool:
    return low <= item.lstrip()[:1].upper() <= high


def test_profiles_match_the_orchestrator_choices() -> None:
    assert tuple(PROFILES) == SIM_PROFILES
    assert DEFAULT_PROFILE == DEFAULT_SIM_PROFILE == "weak"


def test_default_is_the_weak_profile_unchanged() -> None:
    weak, default = SimulatedModel(profile="weak"), SimulatedModel()
    assert (default.avoid_obedience, default.partition_boost, default.partition_obedience) == (
        0.6,
        3.0,
        0.0,
    )
    prompt = build_prompt(TOPIC, 30, avoid=["x"], partition="A-F")
    assert weak.complete(prompt, 3) == default.complete(prompt, 3)
    assert default.complete(prompt, 3).model == "sim-zipf-1"


def test_strong_profile_values_and_overrides() -> None:
    strong = SimulatedModel(profile="strong")
    assert (strong.avoid_obedience, strong.partition_boost, strong.partition_obedience) == (
        0.95,
        1.0,
        0.9,
    )
    assert strong.complete(build_prompt(TOPIC, 5), 1).model == "sim-zipf-1-strong"
    assert SimulatedModel(profile="strong", avoid_obedience=0.5).avoid_obedience == 0.5
    with pytest.raises(ValueError, match="unknown profile"):
        SimulatedModel(profile="medium")


def test_strong_is_deterministic_per_prompt_and_seed() -> None:
    prompt = build_prompt(TOPIC, 30, avoid=["Golden Harbor"], partition="G-M")
    a, b = SimulatedModel(profile="strong"), SimulatedModel(profile="strong")
    assert a.complete(prompt, 9) == b.complete(prompt, 9)
    assert a.complete(prompt, 9).text != a.complete(prompt, 10).text


def test_strong_honours_the_avoid_list_far_more_than_weak() -> None:
    prompt0 = build_prompt(TOPIC, 30)
    model = SimulatedModel(noise=0.0)
    avoid = model.universe(TOPIC)[:40]  # the most popular items
    prompt = build_prompt(TOPIC, 30, avoid=avoid)
    keys = {normalize(x) for x in avoid}

    def slipped(profile: str) -> float:
        m = SimulatedModel(profile=profile, noise=0.0)
        got = [normalize(x) for a in answers(m, prompt, range(200)) for x in a]
        return sum(k in keys for k in got) / len(got)

    without = [normalize(x) for a in answers(model, prompt0, range(200)) for x in a]
    base = sum(k in keys for k in without) / len(without)
    assert slipped("strong") < 0.1 * base  # 5% of what would have come back
    assert slipped("weak") > 0.3 * base


def test_strong_keeps_to_the_partition() -> None:
    prompt = build_prompt(TOPIC, 30, partition="A-F")
    strong = [x for a in answers(SimulatedModel(profile="strong", noise=0.0), prompt, range(100))
              for x in a]  # fmt: skip
    weak = [x for a in answers(SimulatedModel(noise=0.0), prompt, range(100)) for x in a]
    share_strong = sum(map(in_range, strong)) / len(strong)
    share_weak = sum(map(in_range, weak)) / len(weak)
    assert share_strong > 0.7 > 0.55 > share_weak


def test_strong_pads_with_off_focus_items_when_the_partition_runs_out() -> None:
    model = SimulatedModel(profile="strong", noise=0.0, realism=0.0)  # exact names
    letter_d = [x for x in model.universe(TOPIC) if x.startswith("D")]
    assert 0 < len(letter_d) < 20
    prompt = build_prompt(TOPIC, 40, avoid=letter_d[:2], partition="D")
    for seed in range(20):
        items = parse_response(model.complete(prompt, seed).text)
        assert len(items) == 40  # a full answer, as a real model gives
        d_at = [n for n, x in enumerate(items) if x.startswith("D")]
        # every D item not avoided, first (bar a slip of the avoid list), then the padding
        assert len(d_at) >= len(letter_d) - 2
        assert d_at[-1] < 20


def test_registry_builds_the_profile_from_the_settings() -> None:
    assert create_provider("test", {}).model == "sim-zipf-1"
    assert create_provider("test", {"sim_profile": "weak"}).model == "sim-zipf-1"
    assert create_provider("test", {"sim_profile": "strong"}).model == "sim-zipf-1-strong"


def test_cli_option_reaches_the_run_config(tmp_path) -> None:
    _, config = parse_config(["--topic", "T", "--output", str(tmp_path), "--sim-profile", "strong"])
    assert config is not None and config.sim_profile == "strong"
    _, config = parse_config(["--topic", "T", "--output", str(tmp_path)])
    assert config is not None and config.sim_profile == "weak"
    assert config.to_dict()["sim_profile"] == "weak"
    with pytest.raises(ConfigError, match="unknown simulated-model profile"):
        build_run_config(topic="T", output=tmp_path, sim_profile="medium")


def test_bad_profile_is_a_usage_error(tmp_path, capsys) -> None:
    code = orchestrator_main(["--topic", "T", "--output", str(tmp_path), "--sim-profile", "huge"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--sim-profile" in err and "invalid choice" in err and "strong" in err


def test_profile_only_applies_with_a_topic(capsys) -> None:
    code = orchestrator_main(["--sim-profile", "strong", "--control-port", "0"])
    assert code == 2
    assert "--sim-profile" in capsys.readouterr().err
