"""--adaptive-weights: a provider whose model knows few names stops finding new
ones; the orchestrator turns its weight down and the producers follow."""

from __future__ import annotations

import json

import pytest

from scenarios._providers import fake_server, llm_option
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.topic import Topic

pytestmark = pytest.mark.integration

TOPIC = "Adaptive weights"


def test_the_low_yield_provider_loses_weight(
    constellation: ServiceConstellation, topic_waiter, tmp_path
) -> None:
    with (
        fake_server(tmp_path, "strong", model="strong") as strong,
        fake_server(tmp_path, "weak", model="weak", known=25) as weak,
    ):
        config = OrchestratorConfig(
            topic=TOPIC,
            producers=2,
            iterations=60,
            provider="env",
            request_size=20,
            extra_args=[
                *llm_option("strong", strong, 1.0),
                *llm_option("weak", weak, 1.0),
                "--adaptive-weights",
            ],
        )
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=240) == 0, orchestrator.log_text()[-2000:]
        topic: Topic = topic_waiter(TOPIC, timeout=120)
    topic.assert_completed().assert_no_errors()

    reweights = [e for e in topic.root.events if e.name == "providers.reweight"]
    assert reweights, "no providers.reweight event on topic.run"
    last = json.loads(reweights[-1].attributes["providers.weights"])
    assert last["weak"] < last["strong"], last

    summary = json.loads((constellation.output_dir_for(config) / "run.json").read_text())
    providers = summary["providers"]
    assert providers["weak"]["new_per_1k_tokens"] < providers["strong"]["new_per_1k_tokens"]
    # after the first reweight the strong provider takes most of the traffic
    first = reweights[0].time_ns
    later = [
        c.attr("gen_ai.request.model") for c in topic.spans(prefix="chat ") if c.start_ns > first
    ]
    assert later.count("strong") > later.count("weak"), later
