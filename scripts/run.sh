#!/usr/bin/env bash
# `make run`: install, prepare and start the local Airflow, then stay in the foreground.
#
#   1. scripts/bootstrap.sh (.venv; fast when nothing changed), scripts/env.sh
#   2. .airflow/ home: admin password (first run only), `airflow db migrate`,
#      airflow_settings.yaml (connections, pools, variables) via the settings loader; secrets in the
#      metadata DB are encrypted with the home's Fernet key .airflow/fernet_key (made once by scripts/env.sh,
#      owner-readable only; `make rotate-fernet-key` replaces it)
#   3. the demo warehouse data/warehouse.duckdb if it is missing
#   4. `airflow dags reserialize` so the DAGs show at once; on a fresh home, scripts/demo_history.py queues
#      earlier runs of each scheduled behavior, weekly over 4 weeks and its previous tick (the scheduler runs
#      them in the background, oldest first, before the current run: the page has weeks of history;
#      BEHAVIOR_SYNC_DEMO_HISTORY_WEEKS=0 turns it off)
#   5. the Meta, HubSpot, CleverTap, Google Data Manager and Google Ads API sandboxes (python -m sandbox.meta /
#      sandbox.hubspot / sandbox.clevertap / sandbox.google_data_manager / sandbox.google_ads, state in
#      data/<name>-sandbox.json; the Google Ads API one's TLS certificate in data/google-ads-sandbox-tls/;
#      the demo's meta_default, hubspot_default, clevertap_default, google_ads_default and
#      google_ads_api_default connections point at them: scripts/env.sh), then the scheduler, dag-processor,
#      triggerer and api-server, each in its own process group
#      (logs .airflow/logs/<component>.out, pids .airflow/run/<component>.pid)
#   6. wait for /api/v2/monitor/health, print the URL and the login
#
# Ctrl-C (or SIGTERM, or closing the terminal) stops every process group it started, through
# scripts/stop.sh. If a component dies, the others are stopped too. Re-running while Airflow
# runs only prints the login; two runs started together do not start two copies.
# Knobs: BEHAVIOR_SYNC_DETACH=1 (return after start-up; `make start`), BEHAVIOR_SYNC_PORT,
# BEHAVIOR_SYNC_START_TIMEOUT (seconds, default 120), BEHAVIOR_SYNC_SERVE_LOGS=0 (no log servers),
# BEHAVIOR_SYNC_DEMO_HISTORY_WEEKS (weeks of earlier runs queued on a fresh home, default 4; 0: none),
# BEHAVIOR_SYNC_META_SANDBOX_PORT (default 8701), BEHAVIOR_SYNC_META_SANDBOX=0 (no Meta sandbox),
# BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT (default 8702), BEHAVIOR_SYNC_HUBSPOT_SANDBOX=0 (no HubSpot sandbox).
# BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT (default 8703), BEHAVIOR_SYNC_CLEVERTAP_SANDBOX=0 (no CleverTap sandbox).
# BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT (default 8704), BEHAVIOR_SYNC_GOOGLE_SANDBOX=0 (no Google Data Manager sandbox).
# BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT (gRPC, default 8705), BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT
# (default 8706), BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG (JSON config file), BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX=0
# (no Google Ads API sandbox). BEHAVIOR_SYNC_AIRFLOW_HOME (default .airflow/) and BEHAVIOR_SYNC_DATA_DIR
# (default data/) move the Airflow home and the data (both for `make stop` too): scripts/env.sh.
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
"$SCRIPTS/bootstrap.sh"
# shellcheck source=scripts/env.sh
source "$SCRIPTS/env.sh"

COMPONENTS=(scheduler dag-processor triggerer api-server)
SANDBOXES=()
[[ "${BEHAVIOR_SYNC_META_SANDBOX:-1}" != 0 ]] && SANDBOXES+=(meta-sandbox)
[[ "${BEHAVIOR_SYNC_HUBSPOT_SANDBOX:-1}" != 0 ]] && SANDBOXES+=(hubspot-sandbox)
[[ "${BEHAVIOR_SYNC_CLEVERTAP_SANDBOX:-1}" != 0 ]] && SANDBOXES+=(clevertap-sandbox)
[[ "${BEHAVIOR_SYNC_GOOGLE_SANDBOX:-1}" != 0 ]] && SANDBOXES+=(google-sandbox)
[[ "${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX:-1}" != 0 ]] && SANDBOXES+=(google-ads-sandbox)
MANAGED=(${SANDBOXES[@]+"${SANDBOXES[@]}"} "${COMPONENTS[@]}")
META_PORT="$BEHAVIOR_SYNC_META_SANDBOX_PORT"
HUBSPOT_PORT="$BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT"
CLEVERTAP_PORT="$BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT"
GOOGLE_PORT="$BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT"
GOOGLE_ADS_PORT="$BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT"
GOOGLE_ADS_INSPECTION_PORT="$BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT"
DATA_DIR="$BEHAVIOR_SYNC_DATA_DIR"
RUN_DIR="$AIRFLOW_HOME/run"
LOG_DIR="$AIRFLOW_HOME/logs"
URL="http://127.0.0.1:$AIRFLOW__API__PORT"
HEALTH_URL="$URL/api/v2/monitor/health"
START_TIMEOUT="${BEHAVIOR_SYNC_START_TIMEOUT:-120}"
DETACH="${BEHAVIOR_SYNC_DETACH:-0}"
PASSWORDS="$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
DEMO_HISTORY_WEEKS="${BEHAVIOR_SYNC_DEMO_HISTORY_WEEKS:-4}"
DEMO_HISTORY_MARK="$AIRFLOW_HOME/demo_history.done" # the history was queued (or the home had runs): never again

step() { echo "==> $*"; }

# True when sandbox $1 (meta-sandbox, hubspot-sandbox) is switched on.
sandbox_on() { [[ " ${SANDBOXES[*]-} " == *" $1 "* ]]; }

# True when managed process $1's recorded process (its group leader) runs and is not a zombie.
component_alive() {
    local file="$RUN_DIR/$1.pid" pid state
    [[ -f "$file" ]] || return 1
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    state="$(ps -o stat= -p "$pid" 2>/dev/null)" || return 1
    [[ "$state" != Z* ]] && ps -o args= -p "$pid" | grep -qE 'airflow|sandbox\.(meta|hubspot|clevertap|google_data_manager|google_ads)'
}

# True when the API server answers $HEALTH_URL.
healthy() {
    python - "$HEALTH_URL" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()
PY
}

admin_password() {
    python -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' "$PASSWORDS" 2>/dev/null \
        || echo "(unreadable: see $PASSWORDS)"
}

# Where the sandboxes' audiences and lists can be seen (nothing for those that are off).
meta_line() {
    if sandbox_on meta-sandbox; then
        echo "  Meta sandbox:        http://127.0.0.1:$META_PORT/_sandbox/state (audiences: README, Meta Custom Audiences)"
    fi
    if sandbox_on hubspot-sandbox; then
        echo "  HubSpot sandbox:     http://127.0.0.1:$HUBSPOT_PORT/_sandbox/lists (README, HubSpot lists)"
    fi
    if sandbox_on clevertap-sandbox; then
        echo "  CleverTap sandbox:   http://127.0.0.1:$CLEVERTAP_PORT/_sandbox/profiles (README, CleverTap)"
    fi
    if sandbox_on google-sandbox; then
        echo "  Google sandbox:      http://127.0.0.1:$GOOGLE_PORT/_sandbox/user_lists (README, Google Customer Match)"
    fi
    if sandbox_on google-ads-sandbox; then
        echo "  Google Ads sandbox:  http://127.0.0.1:$GOOGLE_ADS_INSPECTION_PORT/_sandbox/user_lists (Google Ads API over gRPC on 127.0.0.1:$GOOGLE_ADS_PORT)"
    fi
}

# Prints the URL and login; $1 says how to stop.
print_login() {
    cat <<EOF

  Airflow is running:  $URL
  user:                admin
  password:            $(admin_password)

  $1
  Logs: $LOG_DIR/<component>.out   CLI: source scripts/env.sh; airflow dags list
$(meta_line)

EOF
}

# Runs "$@" with its output in $LOG_DIR/$name.out; shows the tail and fails if it fails.
run_logged() {
    local name="$1"
    shift
    if ! "$@" >"$LOG_DIR/$name.out" 2>&1; then
        tail -n 30 "$LOG_DIR/$name.out" >&2
        echo "run: '$*' failed; full output in $LOG_DIR/$name.out" >&2
        return 1
    fi
}

mkdir -p "$RUN_DIR" "$LOG_DIR"

# One start-up at a time: a second `make run` waits here, then finds Airflow running.
# (fd 8 is closed for the components below, so they do not hold the lock.)
if command -v flock >/dev/null 2>&1; then
    exec 8>"$RUN_DIR/start.lock"
    flock 8
fi

# ---- already running? ------------------------------------------------------------------
up=() down=()
for c in "${MANAGED[@]}"; do
    if component_alive "$c"; then up+=("$c"); else down+=("$c"); fi
done
if ((${#down[@]} == 0)); then
    echo "Airflow is already running (${MANAGED[*]})."
    print_login "Stop it with 'make stop' (or Ctrl-C in the terminal running 'make run')."
    exit 0
fi
if ((${#up[@]} > 0)); then
    echo "Airflow is partly running (up: ${up[*]}; down: ${down[*]}): restarting it."
    "$SCRIPTS/stop.sh"
fi
rm -f "$RUN_DIR"/*.pid "$RUN_DIR/stopping"

# Exits with advice when port $1 on 127.0.0.1 is taken; $2 names its user ("" for Airflow), $3 the knob.
refuse_busy_port() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        echo "run: ERROR: port $1 on 127.0.0.1${2:+ ($2)} is already in use by another program." >&2
        echo "     Free it, or choose another port: $3=$(($1 + 10)) make run" >&2
        exit 1
    fi
}
refuse_busy_port "$AIRFLOW__API__PORT" "" BEHAVIOR_SYNC_PORT
if sandbox_on meta-sandbox; then refuse_busy_port "$META_PORT" "Meta sandbox" BEHAVIOR_SYNC_META_SANDBOX_PORT; fi
if sandbox_on hubspot-sandbox; then refuse_busy_port "$HUBSPOT_PORT" "HubSpot sandbox" BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT; fi
if sandbox_on clevertap-sandbox; then
    refuse_busy_port "$CLEVERTAP_PORT" "CleverTap sandbox" BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT
fi
if sandbox_on google-sandbox; then
    refuse_busy_port "$GOOGLE_PORT" "Google Data Manager sandbox" BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT
fi
if sandbox_on google-ads-sandbox; then
    refuse_busy_port "$GOOGLE_ADS_PORT" "Google Ads API sandbox" BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT
    refuse_busy_port "$GOOGLE_ADS_INSPECTION_PORT" "Google Ads API sandbox inspection" \
        BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT
fi

# ---- prepare ---------------------------------------------------------------------------
started_at=$SECONDS
if [[ ! -s "$PASSWORDS" ]]; then
    (umask 077 && python -c 'import json, secrets; print(json.dumps({"admin": secrets.token_urlsafe(12)}))' >"$PASSWORDS")
fi

step "airflow db migrate ($AIRFLOW_HOME/airflow.db)"
run_logged db-migrate airflow db migrate

step "loading airflow_settings.yaml (connections, pools, variables)"
python -m behavior_sync_airflow.settings_loader "$PROJECT_DIR/airflow_settings.yaml"

if [[ ! -f "$DATA_DIR/warehouse.duckdb" ]]; then
    step "generating the demo warehouse $DATA_DIR/warehouse.duckdb"
    python -m behavior_sync demo-warehouse --path "$DATA_DIR/warehouse.duckdb" --seed 42 --as-of "$(date -u +%F)"
fi

step "airflow dags reserialize"
run_logged dags-reserialize airflow dags reserialize

# A fresh home (no DAG run yet) gets earlier runs of each scheduled behavior, queued before the scheduler starts
# so that it runs them, oldest first, before the current one: weeks of history fill in the background.
if [[ "$DEMO_HISTORY_WEEKS" != 0 && ! -f "$DEMO_HISTORY_MARK" ]]; then
    step "queueing $DEMO_HISTORY_WEEKS weeks of earlier runs of each behavior (demo history, run in the background)"
    run_logged demo-history python "$SCRIPTS/demo_history.py" --weeks "$DEMO_HISTORY_WEEKS"
    grep '^demo history:' "$LOG_DIR/demo-history.out" | sed 's/^/    /' || true
    touch "$DEMO_HISTORY_MARK"
fi

# ---- start -----------------------------------------------------------------------------
# Stops everything. Must work even when the terminal is gone (SIGHUP) or the output pipe is
# closed: no errexit, and INT/HUP/PIPE ignored, which stop.sh inherits (a second Ctrl-C must
# not interrupt the stop; a write to a dead terminal must not kill it).
stop_all() {
    set +e
    trap - TERM EXIT
    trap '' INT HUP PIPE
    echo 2>/dev/null
    "$SCRIPTS/stop.sh"
}
on_exit() {
    local rc=$?
    # Detached and healthy: the components outlive this script on purpose.
    [[ "${keep_running:-0}" == 1 ]] && return
    stop_all
    exit "$rc"
}
keep_running=0
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 129' HUP # the terminal was closed
trap 'stop_all; exit 143' TERM
trap on_exit EXIT

serve_logs_flag=()
[[ "${BEHAVIOR_SYNC_SERVE_LOGS:-1}" == 0 ]] && serve_logs_flag=(--skip-serve-logs)

# setsid: a new session and process group, so Ctrl-C in this terminal does not reach a
# component directly and scripts/stop.sh can signal it together with its children. The same
# pid is kept (a background job is no group leader, so setsid does not fork). Where the
# util-linux command is missing (macOS), Python's os.setsid() does the same.
if command -v setsid >/dev/null 2>&1; then
    new_session=(setsid)
else
    new_session=(python -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])')
fi

components_at=$SECONDS
# Starts sandbox $1 (the managed name $1-sandbox: pid, log and state $DATA_DIR/$1-sandbox.json) as a managed
# process on port $2; $3 names it; $4 is its Python module under sandbox/ (default $1); the rest are more
# arguments of the module.
start_sandbox() {
    step "starting the $3 sandbox on 127.0.0.1:$2 (state $DATA_DIR/$1-sandbox.json)"
    mkdir -p "$DATA_DIR"
    "${new_session[@]}" python -m "sandbox.${4:-$1}" --port "$2" --state "$DATA_DIR/$1-sandbox.json" "${@:5}" \
        >"$LOG_DIR/$1-sandbox.out" 2>&1 </dev/null 8>&- &
    echo "$!" >"$RUN_DIR/$1-sandbox.pid"
}
if sandbox_on meta-sandbox; then start_sandbox meta "$META_PORT" Meta; fi
if sandbox_on hubspot-sandbox; then start_sandbox hubspot "$HUBSPOT_PORT" HubSpot; fi
if sandbox_on clevertap-sandbox; then start_sandbox clevertap "$CLEVERTAP_PORT" CleverTap; fi
if sandbox_on google-sandbox; then start_sandbox google "$GOOGLE_PORT" "Google Data Manager" google_data_manager; fi
if sandbox_on google-ads-sandbox; then
    # Its certificate and trust bundle go in the folder of GRPC_DEFAULT_SSL_ROOTS_FILE_PATH (scripts/env.sh),
    # made on its first start and reused: the path every Airflow process trusts stays valid.
    ads_args=(--inspection-port "$GOOGLE_ADS_INSPECTION_PORT" --tls-dir "$(dirname "$GRPC_DEFAULT_SSL_ROOTS_FILE_PATH")")
    [[ -n "${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG:-}" ]] && ads_args+=(--config "$BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG")
    start_sandbox google-ads "$GOOGLE_ADS_PORT" "Google Ads API (gRPC)" google_ads "${ads_args[@]}"
fi
step "starting ${COMPONENTS[*]}"
for c in "${COMPONENTS[@]}"; do
    args=("$c")
    [[ "$c" == scheduler || "$c" == triggerer ]] && args+=(${serve_logs_flag[@]+"${serve_logs_flag[@]}"})
    "${new_session[@]}" airflow "${args[@]}" >"$LOG_DIR/$c.out" 2>&1 </dev/null 8>&- &
    echo "$!" >"$RUN_DIR/$c.pid"
done

# Which managed process has exited, if any.
dead_component() {
    for c in "${MANAGED[@]}"; do
        component_alive "$c" || { echo "$c"; return 0; }
    done
    return 1
}

report_death() {
    echo "run: ERROR: airflow $1 exited. Last lines of $LOG_DIR/$1.out:" >&2
    tail -n 30 "$LOG_DIR/$1.out" >&2
}

step "waiting for $HEALTH_URL (up to ${START_TIMEOUT}s)"
deadline=$((SECONDS + START_TIMEOUT))
until healthy; do
    if dead="$(dead_component)"; then
        report_death "$dead"
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "run: ERROR: Airflow did not answer $HEALTH_URL within ${START_TIMEOUT}s." >&2
        for c in "${MANAGED[@]}"; do
            echo "---- $LOG_DIR/$c.out (last 15 lines)" >&2
            tail -n 15 "$LOG_DIR/$c.out" >&2 || true
        done
        exit 1
    fi
    sleep 1
done
echo "Airflow is healthy: $((SECONDS - started_at))s in all, $((SECONDS - components_at))s from starting the components."
exec 8>&- # start-up done: release the lock
if [[ "$DETACH" == 1 ]]; then
    print_login "Stop it with 'make stop'."
    keep_running=1
    exit 0
fi
print_login "Press Ctrl-C here to stop it (or run 'make stop' from another terminal)."
while true; do
    # Returns when a component exits or a signal arrives (the traps then stop everything).
    rc=0
    wait -n || rc=$?
    ((rc == 127)) && sleep 2 # no child left to wait for (should not happen): poll instead
    if dead="$(dead_component)"; then
        if [[ -f "$RUN_DIR/stopping" || ! -f "$RUN_DIR/$dead.pid" ]]; then
            trap - INT HUP TERM EXIT
            echo "Airflow was stopped by scripts/stop.sh."
            exit 0
        fi
        report_death "$dead"
        exit 1
    fi
done
