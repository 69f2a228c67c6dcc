#!/usr/bin/env bash
# Stop the local Airflow (and the demo's vendor sandboxes) started by scripts/run.sh (`make stop`).
#
# Each component runs in its own process group (setsid) recorded in .airflow/run/<name>.pid
# (<BEHAVIOR_SYNC_AIRFLOW_HOME>/run/ when that knob of scripts/env.sh moved the Airflow home).
# The whole group gets SIGTERM (signalling only the leader would orphan the LocalExecutor
# workers and log servers; SIGINT is ignored by background groups), and so does every process
# group led by one of their descendants (Airflow 3.3 runs each task in its own group under the
# worker). Then up to BEHAVIOR_SYNC_STOP_TIMEOUT seconds (default 30) to exit, then SIGKILL.
# The api-server is stopped last, once the others are gone (they report to it while stopping).
# Pid files are removed. Safe to run when nothing runs; a recorded group is only signalled
# while it still holds an airflow process, so a recycled pid never hits someone else's.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
RUN_DIR="${BEHAVIOR_SYNC_AIRFLOW_HOME:-$PROJECT_DIR/.airflow}/run"
TIMEOUT="${BEHAVIOR_SYNC_STOP_TIMEOUT:-30}"

# Messages never fail: stop.sh also runs from run.sh's traps, when the terminal may be gone.
say() { echo "$@" 2>/dev/null || true; }

# True when process group $1 still holds a live (not zombie) airflow or sandbox process.
airflow_group_alive() {
    ps -eo pgid=,stat=,args= |
        awk -v g="$1" '$1 == g && $2 !~ /^Z/ && /airflow|sandbox\.(meta|hubspot|clevertap|google_data_manager|google_ads)/ { found = 1 } END { exit !found }'
}

# True when process group $1 still has a live (not zombie) process.
group_alive() {
    ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# Process groups of every live (not zombie) descendant of the pids given, their own included.
descendant_groups() {
    ps -eo pid=,ppid=,pgid=,stat= | awk -v roots=" $* " '
        { parent[$1] = $2; group[$1] = $3; zombie[$1] = ($4 ~ /^Z/) }
        END {
            for (p in parent)
                if (!zombie[p])
                    for (q = p; q + 0 > 1 && q in parent; q = parent[q])
                        if (index(roots, " " q " ")) { print group[p]; break }
        }' | sort -u
}

shopt -s nullglob
pid_files=("$RUN_DIR"/*.pid)
if ((${#pid_files[@]} == 0)); then
    say "Airflow is not running (no pid files in $RUN_DIR)"
    exit 0
fi

# Tells a foreground scripts/run.sh that the exits it is about to see are wanted.
touch "$RUN_DIR/stopping"

components=()
for file in "${pid_files[@]}"; do
    pgid="$(cat "$file" 2>/dev/null || true)"
    if [[ "$pgid" =~ ^[0-9]+$ ]] && airflow_group_alive "$pgid"; then
        components+=("$(basename "$file" .pid):$pgid")
    fi
done

# SIGTERM to process groups "$@", wait until they are gone (up to TIMEOUT s), then SIGKILL.
stop_groups() {
    local groups=("$@") still pgid deadline=$((SECONDS + TIMEOUT))
    for pgid in "${groups[@]}"; do
        kill -TERM -- "-$pgid" 2>/dev/null || true
    done
    while ((${#groups[@]} > 0)); do
        still=()
        for pgid in "${groups[@]}"; do
            group_alive "$pgid" && still+=("$pgid")
        done
        groups=(${still[@]+"${still[@]}"})
        ((${#groups[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            say "still running after ${TIMEOUT}s: SIGKILL to process group(s) ${groups[*]}"
            for pgid in "${groups[@]}"; do
                kill -KILL -- "-$pgid" 2>/dev/null || true
            done
            return 0
        fi
        sleep 0.5
    done
}

# The API server goes last: task supervisors and the triggerer report to its Execution API
# while they shut down, and retry for a long time when it is gone.
api_server="" first=()
for entry in ${components[@]+"${components[@]}"}; do
    if [[ "${entry%%:*}" == api-server ]]; then
        api_server="${entry#*:}"
    else
        say "stopping ${entry%%:*} (process group ${entry#*:})"
        first+=("${entry#*:}")
    fi
done
if ((${#first[@]} > 0)); then
    mapfile -t tasks < <(descendant_groups "${first[@]}" | grep -v -x -F -f <(printf '%s\n' "${first[@]}") || true)
    ((${#tasks[@]} > 0)) && say "stopping ${#tasks[@]} running task process group(s)"
    stop_groups "${first[@]}" ${tasks[@]+"${tasks[@]}"}
fi
if [[ -n "$api_server" ]]; then
    say "stopping api-server (process group $api_server)"
    mapfile -t groups < <({ echo "$api_server"; descendant_groups "$api_server"; } | sort -u)
    stop_groups "${groups[@]}"
fi

rm -f "${pid_files[@]}" "$RUN_DIR/stopping"
say "Airflow stopped"
