"""The provider scenarios pass end to end (fake OpenAI-compatible servers, real processes)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("scenario", ["providers", "provider-faults"])
def test_provider_scenario_passes(scenario, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tester", "--scenario", scenario, "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"scenario {scenario} PASSED" in result.stdout
