#!/usr/bin/env bash
# Start the orchestrator (web mode) and the webserver in the background.
#   scripts/start.sh [--log-level LEVEL] [--port PORT] [--trace-ep URL]
# Then open http://localhost:8080 (or the port given). scripts/stop.sh stops both.
# Logs: logs/orchestrator.log, logs/webserver.log; state: .run/ (pids, control token).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pidfile.sh

LOG_LEVEL=info PORT=8080 CONTROL_PORT=7600 TRACE=()
while [ $# -gt 0 ]; do
    case "$1" in
        --log-level) LOG_LEVEL="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;  # 0: any free port (printed)
        --control-port) CONTROL_PORT="$2"; shift 2 ;;
        --trace-ep) TRACE=(--trace-ep "$2"); shift 2 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "start.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

[ -x .venv/bin/python ] || make .venv/.installed
mkdir -p logs .run
for name in orchestrator webserver; do
    if pid=$(our_pid "$name"); then
        echo "start.sh: $name is already running (pid $pid); scripts/stop.sh first" >&2
        exit 1
    fi
done

wait_for() {  # wait_for NAME PATTERN PID
    for _ in $(seq 150); do
        grep -q "$2" "logs/$1.log" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || { echo "start.sh: $1 exited; see logs/$1.log:" >&2; tail -5 "logs/$1.log" >&2; return 1; }
        sleep 0.2
    done
    echo "start.sh: $1 not ready after 30 s; see logs/$1.log" >&2
    return 1
}

.venv/bin/python -m system.orchestrator --log-level "$LOG_LEVEL" --control-port "$CONTROL_PORT" \
    --control-token-file .run/control.token --log-dir logs "${TRACE[@]}" \
    > logs/orchestrator.log 2>&1 < /dev/null &
pid=$!
record_pid orchestrator "$pid"
wait_for orchestrator "control listening on" "$pid" || { scripts/stop.sh; exit 1; }
CONTROL=$(grep -o "control listening on [^ ]*" logs/orchestrator.log | tail -1 | awk '{print $4}')

.venv/bin/python -m system.webserver --log-level "$LOG_LEVEL" --port "$PORT" \
    --orchestrator "$CONTROL" --control-token-file .run/control.token "${TRACE[@]}" \
    > logs/webserver.log 2>&1 < /dev/null &
pid=$!
record_pid webserver "$pid"
wait_for webserver "webserver listening on" "$pid" || { scripts/stop.sh; exit 1; }

grep -o "webserver listening on .*" logs/webserver.log | sed 's/^webserver listening on /Open /'
echo "Logs in logs/; stop with scripts/stop.sh"
