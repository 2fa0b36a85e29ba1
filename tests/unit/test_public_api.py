"""The tester's public surface: ``from tester import ...``, pinned like an API.

Changing ``tester.__all__`` is an API change: update PUBLIC below, the README
and docs/ARCHITECTURE.md together (the trio way: a private core, a public
surface a test holds still).
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tester
from tester.discovery import describe, discover

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = [
    "Collector",
    "FakeLLMServer",
    "IncompleteTrace",
    "NoTelemetry",
    "OrchestratorConfig",
    "ScenarioContext",
    "ServiceConstellation",
    "Span",
    "SpanStore",
    "Spans",
    "StartupError",
    "Topic",
    "spans",
]


def test_exported_names_are_pinned() -> None:
    assert sorted(tester.__all__) == PUBLIC, (
        "tester.__all__ changed: update PUBLIC in this test, the README and docs"
    )


def test_the_issue_s_import_line_works() -> None:
    from tester import Collector, OrchestratorConfig, ServiceConstellation, Topic, spans

    assert callable(spans)
    for cls in (Collector, OrchestratorConfig, ServiceConstellation, Topic):
        assert isinstance(cls, type)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_name_is_the_object_its_home_module_defines(name: str) -> None:
    value = getattr(tester, name)
    home = importlib.import_module(value.__module__)
    assert getattr(home, name) is value
    assert name in dir(tester)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = tester.Nope  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from tester import Nope", {})
    from tester import schema  # subpackages and modules still import as before

    assert schema.TOPIC_RUN == "topic.run"


def test_importing_tester_does_not_load_the_collector() -> None:
    """``python -m tester.fake_llm`` starts once per provider scenario: keep it light."""
    code = "import sys, tester; print(sorted(m for m in sys.modules if m.startswith('tester')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert out.strip() == "['tester']", out


def test_the_readme_imports_the_harness_from_the_public_surface() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    imported = [
        name.strip()
        for block in blocks
        for names in re.findall(r"^from tester import (.+)$", block, flags=re.M)
        for name in names.split(",")
    ]
    assert {"Collector", "ServiceConstellation", "OrchestratorConfig", "Topic", "spans"} <= set(
        imported
    ), f"README python examples import only {imported} from tester"
    assert set(imported) <= set(PUBLIC), set(imported) - set(PUBLIC)
    deep = [
        line
        for block in blocks
        for line in block.splitlines()
        if re.match(r"from tester\.(collector|constellation|topic|query) import", line)
    ]
    assert not deep, f"README imports from tester's subpackages instead of tester: {deep}"


# ------------------------------------------------------------ scenario discovery
def _package(root: Path, name: str, modules: dict[str, str], init: str = "") -> None:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text(init, encoding="utf-8")
    for module, body in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def test_discovery_finds_scenarios_by_package_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = '"""{}\n\nMore."""\ndef run(ctx):\n    pass\n'
    _package(
        tmp_path,
        "demo_scenarios",
        {
            "b_second": scenario.format("Second."),
            "a_third": scenario.format("Third."),
            "z_first": scenario.format("First."),
            "_helpers": "def run(ctx):\n    pass\n",
            "not_one": '"""No run."""\nrun = 3\n',
        },
        init='ORDER = ("z-first", "b-second")\n',
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover("demo_scenarios")
    assert list(found) == ["z-first", "b-second", "a-third"]
    assert [describe(m) for m in found.values()] == ["First.", "Second.", "Third."]


def test_the_project_s_scenarios_start_with_the_documented_order() -> None:
    found = discover()
    assert list(found)[:4] == ["basic", "examples", "producer-kill", "orchestrator-restart"]
    assert all(describe(m) for m in found.values()), "every scenario has a docstring"
