"""docs/behaviour.toml lists every documented promise and the checks that guard it.

What exists is read from the code and the docs, never from the inventory:

* ``option``: every option of the ``orchestrator``, ``webserver`` and
  ``export-attributes`` parsers (``--help`` excepted);
* ``llm-field``: every field ``--llm`` accepts (aliases included);
* ``route`` / ``route-param``: every route of the webserver's FastAPI app, each
  query parameter and each field of a JSON body;
* ``lever``: every lever of the registry (``LEVERS``), by its name;
* ``run.json`` / ``attributes.jsonl``: every field of the files a real run
  writes (``--provider test``; two levels of ``run.json``, the keys of a
  ``producers`` entry as ``producers[].KEY``);
* ``trace``: every span, attribute and event name of docs/tracing.md (read the
  way tests/unit/test_schema_contract.py reads it);
* ``exit``: every exit code of the programs (their ``EXIT_*`` constants and
  the literal codes ``main`` returns).

Each entry's ``checks`` name what fails when the promise is broken:
``scenario:NAME`` (that scenario's checks), ``scenario:NAME:FUNCTION`` (a
function of that scenario's module, or of a helper module it names as
``scenario:_helpers:FUNCTION``), or ``pytest:PATH::TEST`` where no scenario can
see the behaviour. ``["none"]`` with a ``reason`` marks a promise nobody
checks yet: allowed, and counted.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from test_schema_contract import _FILE, _NAME, _documented

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "docs" / "behaviour.toml"
TRACING = ROOT / "docs" / "tracing.md"
KINDS = {
    "option", "llm-field", "route", "route-param", "lever", "run.json", "attributes.jsonl",
    "trace", "exit",
}  # fmt: skip
#: the programs whose exit codes are promises: module, its ``main``'s name in the inventory
EXIT_MODULES = {
    "system/orchestrator/cli.py": "orchestrator",
    "system/webserver/cli.py": "webserver",
    "system/output/export.py": "export-attributes",
    "system/producer/connect.py": "producer",
}


def inventory() -> list[dict[str, Any]]:
    return list(tomllib.loads(INVENTORY.read_text(encoding="utf-8"))["promise"])


# ------------------------------------------------------------- what exists
class _Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser


def _parser_of_main(main: Any) -> argparse.ArgumentParser:
    """The parser a ``main`` builds inline: caught at its ``parse_args``."""

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        raise _Captured(self)

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture):
        try:
            main([])
        except _Captured as caught:
            return caught.parser
    raise AssertionError(f"{main} built no parser")


def _parsers() -> dict[str, argparse.ArgumentParser]:
    from system.orchestrator.cli import build_parser as orchestrator
    from system.output.export import main as export
    from system.webserver.cli import build_parser as webserver

    return {
        "orchestrator": orchestrator(),
        "webserver": webserver(),
        "export-attributes": _parser_of_main(export),
    }


def existing_options() -> set[str]:
    found = set()
    for prog, parser in _parsers().items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = [s for s in action.option_strings if s.startswith("--")] or [action.dest]
            found.add(f"option {prog} {names[0]}")
    return found


def existing_llm_fields() -> set[str]:
    from system.providers.catalog import _LLM_KEYS

    return {f"llm-field {key}" for key in _LLM_KEYS}


def existing_routes() -> set[str]:
    """The app's OpenAPI description (what ``/openapi.json`` serves), plus the routes kept
    out of it (the UI page)."""
    from fastapi.routing import APIRoute

    from system.webserver.app import create_app

    app = create_app(mock.MagicMock(), mock.MagicMock(), mock.MagicMock())
    with warnings.catch_warnings():  # GET and HEAD of the download share an operation id
        warnings.simplefilter("ignore", UserWarning)
        spec = app.openapi()
    found = set()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            found.add(f"route {where}")
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    found.add(f"route-param {where} ?{param['name']}")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            model = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
            found |= {f"route-param {where} body.{field}" for field in model.get("properties", {})}
    for route in app.routes:
        if isinstance(route, APIRoute) and not route.include_in_schema:
            for method in route.methods:
                found.add(f"route {method} {route.path}")
                found |= {
                    f"route-param {method} {route.path} ?{p.alias}"
                    for p in route.dependant.query_params
                }
    return found


def existing_levers() -> set[str]:
    from system.levers.registry import LEVERS

    return {f"lever {lever.name}" for lever in LEVERS}


def existing_trace_names() -> set[str]:
    doc = TRACING.read_text(encoding="utf-8")
    return {
        f"trace {name}"
        for name in _documented(doc)
        if (_NAME.match(name) and not _FILE.search(name)) or name.startswith("chat {")
    }


def existing_exit_codes() -> set[str]:
    found = set()
    for rel, prog in EXIT_MODULES.items():
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        for node in tree.body:  # EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.Constant):
                names = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                values = [
                    v.value
                    for v in ast.walk(node.value)
                    if isinstance(v, ast.Constant) and isinstance(v.value, int)
                ]
                if names and all(n.startswith("EXIT_") for n in names):
                    found |= {f"exit {prog} {v}" for v in values}
            if isinstance(node, ast.FunctionDef) and node.name == "main":
                for ret in ast.walk(node):
                    if (
                        isinstance(ret, ast.Return)
                        and isinstance(ret.value, ast.Constant)
                        and isinstance(ret.value.value, int)
                    ):
                        found.add(f"exit {prog} {ret.value.value}")
    return found


@pytest.fixture(scope="module")
def run_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """run.json and the first attributes.jsonl record of a short simulated run."""
    out = tmp_path_factory.mktemp("run")
    done = subprocess.run(
        [sys.executable, "-m", "system.orchestrator", "--provider", "test", "--topic",
         "Rivers", "--producers", "1", "--iterations", "2", "--output", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    first = (out / "attributes.jsonl").read_text(encoding="utf-8").splitlines()[0]
    return run, json.loads(first)


def run_json_fields(run: dict[str, Any]) -> set[str]:
    found = set()
    for key, value in run.items():
        found.add(f"run.json {key}")
        if isinstance(value, dict) and key not in ("providers",):
            found |= {f"run.json {key}.{sub}" for sub in value}
        if key == "producers" and value:
            found |= {f"run.json producers[].{sub}" for sub in value[0]}
    return found


# ------------------------------------------------------------- the checks named
def _check_exists(ref: str) -> str | None:
    """None if the check named exists, else why not."""
    if ref.startswith("pytest:"):
        path, _, test = ref.removeprefix("pytest:").partition("::")
        file = ROOT / path
        if not file.is_file():
            return f"no file {path}"
        if not re.search(rf"^\s*(?:async )?def {re.escape(test)}\(", file.read_text(), re.M):
            return f"no test {test} in {path}"
        return None
    if ref.startswith("scenario:"):
        from tester.discovery import discover

        name, _, function = ref.removeprefix("scenario:").partition(":")
        if name.startswith("_"):
            module = importlib.import_module(f"scenarios.{name}")
        else:
            scenarios = discover()
            if name not in scenarios:
                return f"no scenario {name}"
            module = scenarios[name]
        if function and not callable(getattr(module, function, None)):
            return f"no function {function} in scenario {name}"
        return None
    return "a check is scenario:NAME[:FUNCTION] or pytest:PATH::TEST"


# ------------------------------------------------------------- the tests
def test_entries_are_well_formed_and_their_checks_exist() -> None:
    problems, seen = [], set()
    for entry in inventory():
        pid = entry.get("id", "")
        kind = pid.split(" ", 1)[0]
        if kind not in KINDS:
            problems.append(f"{pid!r}: unknown kind {kind!r} (one of {sorted(KINDS)})")
        if pid in seen:
            problems.append(f"{pid!r}: listed twice")
        seen.add(pid)
        checks = entry.get("checks")
        if not checks or not isinstance(checks, list):
            problems.append(f"{pid!r}: no checks (use checks = ['none'] and a reason)")
            continue
        if checks == ["none"]:
            if not str(entry.get("reason", "")).strip():
                problems.append(f"{pid!r}: checks = ['none'] needs a reason")
            continue
        for ref in checks:
            why = _check_exists(ref)
            if why:
                problems.append(f"{pid!r}: check {ref!r}: {why}")
    assert not problems, "docs/behaviour.toml:\n" + "\n".join(problems)


def _compare(existing: set[str], kinds: tuple[str, ...], *, stale: bool = True) -> None:
    listed = {e["id"] for e in inventory() if e["id"].split(" ", 1)[0] in kinds}
    missing = sorted(existing - listed)
    assert not missing, (
        "exists without an entry in docs/behaviour.toml (add one naming the check that "
        "fails when it breaks, or checks = ['none'] with a reason):\n" + "\n".join(missing)
    )
    if stale:
        gone = sorted(listed - existing)
        assert not gone, "docs/behaviour.toml lists what no longer exists:\n" + "\n".join(gone)


def test_every_option_has_an_entry() -> None:
    _compare(existing_options(), ("option",))


def test_every_llm_field_has_an_entry() -> None:
    _compare(existing_llm_fields(), ("llm-field",))


def test_every_route_and_parameter_has_an_entry() -> None:
    _compare(existing_routes(), ("route", "route-param"))


def test_every_lever_has_an_entry() -> None:
    _compare(existing_levers(), ("lever",))


def test_every_traced_name_has_an_entry() -> None:
    _compare(existing_trace_names(), ("trace",))


def test_every_exit_code_has_an_entry() -> None:
    _compare(existing_exit_codes(), ("exit",))


def test_every_field_of_the_files_has_an_entry(
    run_files: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    run, record = run_files
    # fields that only some configurations write (a lever's keys) may be listed beyond these
    _compare(run_json_fields(run), ("run.json",), stale=False)
    _compare({f"attributes.jsonl {k}" for k in record}, ("attributes.jsonl",))


def test_the_reader_sees_a_new_option_and_a_missing_check() -> None:
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--new-thing")

    def main(argv: list[str]) -> int:
        parser.parse_args(argv)
        return 0

    assert _parser_of_main(main) is parser
    assert _check_exists("scenario:no-such-scenario") == "no scenario no-such-scenario"
    assert _check_exists("pytest:tests/unit/test_behaviour_inventory.py::test_nope")
    assert _check_exists("scenario:basic") is None
    assert (
        _check_exists(
            "pytest:tests/unit/test_behaviour_inventory.py::test_every_lever_has_an_entry"
        )
        is None
    )
