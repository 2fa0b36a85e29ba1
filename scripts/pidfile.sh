# Pid files of scripts/start.sh and scripts/stop.sh (sourced by both; bash).
# .run/NAME.pid holds "PID START" (START: the process's start time as `ps` prints it),
# so a pid file left by a reboot, or a pid reused by another program, is never
# taken for ours: a process is ours only if it is alive, started at START and its
# command line runs `python -m system.NAME`.

# record_pid NAME PID: write .run/NAME.pid for the process PID just started.
record_pid() {
    local start
    start=$(ps -o lstart= -p "$2" 2>/dev/null | tr -s ' ')
    echo "$2 ${start# }" > ".run/$1.pid"
}

# our_pid NAME: print the pid in .run/NAME.pid if that process is ours and alive;
# status 1 (and nothing printed) otherwise.
our_pid() {
    local pidfile=".run/$1.pid" pid start now args
    [ -f "$pidfile" ] || return 1
    read -r pid start < "$pidfile" || [ -n "${pid:-}" ] || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
    case "$args" in *"-m system.$1"*) ;; *) return 1 ;; esac
    if [ -n "${start:-}" ]; then
        now=$(ps -o lstart= -p "$pid" 2>/dev/null | tr -s ' ')
        [ "${now# }" = "$start" ] || return 1
    fi
    echo "$pid"
}
