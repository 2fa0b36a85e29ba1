"""Run the orchestrator in this process and record its own resource use at exit.

    python benchmarks/_orchestrator_probe.py RESULT.json [PROFILE.prof] -- ORCHESTRATOR ARGS...

At exit (normal or ``sys.exit``) it writes ``os.times()`` split into the
orchestrator's own CPU time and that of its reaped children (the producers),
and the peak RSS of both (``ru_maxrss``: self, and the largest child). With a
profile path the whole run is under cProfile. The orchestrator itself is
unchanged: this is ``python -m system.orchestrator`` with a measuring shell.
"""

from __future__ import annotations

import atexit
import cProfile
import json
import os
import resource
import runpy
import sys
import time


def main() -> None:
    separator = sys.argv.index("--")
    own, rest = sys.argv[1:separator], sys.argv[separator + 1 :]
    result_path = own[0]
    profile_path = own[1] if len(own) > 1 else None
    profiler = cProfile.Profile() if profile_path else None
    started = time.perf_counter()

    def report() -> None:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
        t = os.times()
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = {
            "wall_s": time.perf_counter() - started,
            "self_user_s": t.user,
            "self_system_s": t.system,
            "children_user_s": t.children_user,
            "children_system_s": t.children_system,
            "self_maxrss_kb": me.ru_maxrss,
            "children_maxrss_kb": kids.ru_maxrss,
        }
        with open(result_path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)

    atexit.register(report)
    sys.argv = ["system.orchestrator", *rest]
    if profiler is not None:
        profiler.enable()
    runpy.run_module("system.orchestrator", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
