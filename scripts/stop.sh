#!/usr/bin/env bash
# Stop what scripts/start.sh started: SIGTERM (active runs stop cleanly), then SIGKILL after 20 s.
# A pid file naming a process that is not ours (reboot, pid reused) is removed, never signalled.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/pidfile.sh

for name in webserver orchestrator; do
    pidfile=".run/$name.pid"
    [ -f "$pidfile" ] || continue
    if ! pid=$(our_pid "$name"); then
        echo "stop.sh: $pidfile names no running $name (stale: reboot or pid reused); removing it" >&2
        rm -f "$pidfile"
        continue
    fi
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "stop.sh: $name (pid $pid) did not stop in 20 s; killing it" >&2
        kill -KILL "$pid"
    fi
    echo "stopped $name (pid $pid)"
    rm -f "$pidfile"
done
