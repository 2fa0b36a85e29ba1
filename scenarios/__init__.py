"""Scenarios the tester can run: ``python -m tester --scenario NAME``.

A scenario is a module in this package with a docstring (its first line is the
description) and two functions:

``run(ctx: ScenarioContext)``
    Drives the system: starts constellations, kills processes, waits for exit
    codes... It records in ``ctx.facts`` everything the checks need that is not
    in the spans: ``ctx.fact("exit_code", code)``, ``ctx.fact_path("output",
    path)`` (stored relative to the work directory). It may raise
    AssertionError for what only a live run can see (a process left alive).

``check(ctx: ScenarioContext)``
    Checks the traces: reads only ``ctx.store`` (the spans), ``ctx.facts``,
    ``ctx.path(key)`` (a recorded path) and ``ctx.topic(name)`` (a Topic from
    the spans), and raises AssertionError with evidence. It never starts or
    signals a process, and never waits for anything but spans.

The tester calls ``run``, writes ``ctx.facts`` to ``scenario.json`` in the
artifacts folder, then calls ``check``; the traces are saved next to it as
``traces.otlp.json``. ``python -m tester --replay ARTIFACT_DIR`` later runs
only ``check`` on those two files, offline. A module without ``check`` does
everything in ``run`` and cannot be replayed.

The scenario's name is the module name with ``-`` for ``_``
(``producer_kill.py`` -> ``producer-kill``); modules starting with ``_`` are
helpers. Adding a file here is all it takes to add a scenario:

    '''Two producers finish 3 iterations.'''

    def run(ctx):
        config = OrchestratorConfig(topic="Rivers", producers=2, iterations=3)
        c = ctx.constellation()
        orchestrator = c.start_orchestrator(config)
        ctx.fact_path("attributes", c.output_dir_for(config) / "attributes.txt")
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))

    def check(ctx):
        assert ctx.facts["exit_code"] == 0, f"orchestrator exited {ctx.facts['exit_code']}"
        ctx.topic("Rivers").assert_completed().assert_file_matches(ctx.path("attributes"))

The tester finds the modules at run time (``tester/discovery.py``, by the
package's name) and has no import of this package in its code: scenarios use
the tester, never the other way round.
"""

#: scenarios listed (and run by ``--scenario all``) first, in this order; then the rest by name
ORDER = ("basic", "examples", "producer-kill", "orchestrator-restart")
