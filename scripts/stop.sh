#!/usr/bin/env bash
# Stop what scripts/start.sh started: SIGTERM (active runs stop cleanly), then SIGKILL after 20 s.
set -uo pipefail
cd "$(dirname "$0")/.."

for name in webserver orchestrator; do
    pidfile=".run/$name.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "stop.sh: $name (pid $pid) did not stop in 20 s; killing it" >&2
            kill -KILL "$pid"
        fi
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
done
