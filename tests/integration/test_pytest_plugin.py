"""The plugin's fixtures, used the way a user's own suite would."""

import pytest

from tester.constellation import OrchestratorConfig

pytestmark = pytest.mark.integration


def test_plugin_fixtures_run_a_topic(constellation, topic_waiter):
    constellation.start_orchestrator(
        OrchestratorConfig(topic="Plugin check", producers=2, iterations=2)
    )
    topic = topic_waiter("Plugin check")
    topic.assert_completed().assert_no_errors().assert_counts_consistent()


def test_plugin_is_registered(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("tester")
