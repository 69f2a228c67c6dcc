# shellcheck shell=bash
# The project's local Airflow environment. Source it from any directory:
#
#     source scripts/env.sh        # then `airflow dags list`, `airflow dags test ...`
#
# It activates .venv (made by scripts/bootstrap.sh) and points Airflow at the git-ignored
# home .airflow/ in the project: SQLite metadata DB, LocalExecutor with 4 parallel tasks,
# API server on 127.0.0.1 only, no example DAGs, DAGs unpaused at creation (the demo
# behaviors run as soon as they are seen), secrets in the DB encrypted with the home's Fernet
# key (.airflow/fernet_key, made on first use). scripts/run.sh, stop.sh and the Makefile use it.
#
# Knobs (set before sourcing): BEHAVIOR_SYNC_AIRFLOW_HOME (the Airflow home, default .airflow/),
# BEHAVIOR_SYNC_DATA_DIR (demo warehouse, state database, artifacts and sandbox state, default data/;
# airflow_settings.yaml follows it), BEHAVIOR_SYNC_PORT (API port, default 8080),
# BEHAVIOR_SYNC_META_SANDBOX_PORT (the demo's Meta sandbox, default 8701) and
# BEHAVIOR_SYNC_META_SANDBOX=0 (no sandbox: meta_default is then whatever connection you create);
# likewise BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT (default 8702) / BEHAVIOR_SYNC_HUBSPOT_SANDBOX=0 and
# BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT (default 8703) / BEHAVIOR_SYNC_CLEVERTAP_SANDBOX=0.
# BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT (default 8704) / BEHAVIOR_SYNC_GOOGLE_SANDBOX=0 for Google (Data Manager API);
# BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT (gRPC, default 8705), BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT
# (default 8706), BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_CONFIG (a JSON config file; default the sandbox's demo one)
# and BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX=0 for the Google Ads API (gRPC) sandbox.
#
# Airflow's log servers (the scheduler's on [logging] worker_log_server_port 8793 and the
# triggerer's on trigger_log_server_port 8794) cannot be bound to 127.0.0.1: Airflow 3.3
# hard-codes host "" (all interfaces) in airflow/utils/serve_logs/core.py and has no host
# option. They only serve files to callers holding a JWT signed with [api] secret_key (kept
# in .airflow/airflow.cfg, readable by the owner only). scripts/run.sh starts them unless
# BEHAVIOR_SYNC_SERVE_LOGS=0 (then nothing listens on those ports; the UI still reads task
# logs from the local files, but logs an error for each read of a running task's log).
#
# Prints nothing when all is well. Sourced into interactive shells too: no `set -e`, no exit.

if [ -n "${BASH_SOURCE:-}" ]; then
    _bsync_env_file="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
    eval '_bsync_env_file="${(%):-%x}"'
else
    _bsync_env_file="$0"
fi
PROJECT_DIR="$(cd "$(dirname "$_bsync_env_file")/.." && pwd -P)"
unset _bsync_env_file
export PROJECT_DIR
export BEHAVIOR_SYNC_PROJECT_DIR="$PROJECT_DIR"

if [ -f "$PROJECT_DIR/.venv/bin/activate" ]; then
    if [ "${VIRTUAL_ENV:-}" != "$PROJECT_DIR/.venv" ]; then
        # shellcheck disable=SC1091
        . "$PROJECT_DIR/.venv/bin/activate"
    fi
else
    echo "scripts/env.sh: $PROJECT_DIR/.venv is missing; run 'make run' or scripts/bootstrap.sh first" >&2
fi

export BEHAVIOR_SYNC_AIRFLOW_HOME="${BEHAVIOR_SYNC_AIRFLOW_HOME:-$PROJECT_DIR/.airflow}"
export BEHAVIOR_SYNC_DATA_DIR="${BEHAVIOR_SYNC_DATA_DIR:-$PROJECT_DIR/data}"
export AIRFLOW_HOME="$BEHAVIOR_SYNC_AIRFLOW_HOME"
export AIRFLOW__CORE__DAGS_FOLDER="$PROJECT_DIR/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$PROJECT_DIR/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=30

# API server: loopback only. base_url must follow the port, or every task fails to reach the
# Execution API (workers default to http://localhost:8080/execution/).
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="${BEHAVIOR_SYNC_PORT:-8080}"
export AIRFLOW__API__BASE_URL="http://127.0.0.1:$AIRFLOW__API__PORT"

# Login: user admin (role admin); scripts/run.sh writes its random password to passwords.json.
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_HOME/passwords.json"

# One JWT secret shared by every component (Airflow's generated one is short and makes
# PyJWT warn about an insecure key length): 32 random bytes, made once, owner-readable only.
if [ ! -s "$AIRFLOW_HOME/jwt_secret" ]; then
    mkdir -p "$AIRFLOW_HOME"
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$AIRFLOW_HOME/jwt_secret")
fi
AIRFLOW__API_AUTH__JWT_SECRET="$(cat "$AIRFLOW_HOME/jwt_secret")"
export AIRFLOW__API_AUTH__JWT_SECRET

# Fernet key: Airflow encrypts connection passwords and extras, and variables, in the metadata DB with it.
# Made once (32 random bytes, URL-safe base64) into fernet_key, owner-readable only, and reused by every later
# start; a home made before that file existed keeps the key Airflow wrote into its airflow.cfg (its secrets
# would not decrypt otherwise). It may hold "new,old" during scripts/rotate_fernet_key.sh (README, "Secrets at
# rest"). AIRFLOW__CORE__FERNET_KEY wins over airflow.cfg.
if [ ! -s "$AIRFLOW_HOME/fernet_key" ]; then
    mkdir -p "$AIRFLOW_HOME"
    _bsync_key=""
    if [ -f "$AIRFLOW_HOME/airflow.cfg" ]; then
        _bsync_key="$(sed -n 's/^[[:space:]]*fernet_key[[:space:]]*=[[:space:]]*\([^[:space:]]\{1,\}\).*/\1/p' \
            "$AIRFLOW_HOME/airflow.cfg" | head -n 1)"
    fi
    [ -n "$_bsync_key" ] || _bsync_key="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')"
    (umask 077 && printf '%s\n' "$_bsync_key" >"$AIRFLOW_HOME/fernet_key")
    unset _bsync_key
fi
chmod 600 "$AIRFLOW_HOME/fernet_key"
AIRFLOW__CORE__FERNET_KEY="$(cat "$AIRFLOW_HOME/fernet_key")"
export AIRFLOW__CORE__FERNET_KEY

# The Test button of Airflow's connection form (Airflow disables it by default: whoever may edit connections
# can make the api-server call any host with them; this local Airflow has one user, admin).
export AIRFLOW__CORE__TEST_CONNECTION=Enabled

# include/ and the project's modules importable by every component (triggerer included).
export PYTHONPATH="$PROJECT_DIR"

# The demo's Meta connection: the local Meta sandbox that scripts/run.sh starts, with its demo token
# (not a secret: it only opens the sandbox). An AIRFLOW_CONN_ variable wins over a meta_default made in
# the UI, so set BEHAVIOR_SYNC_META_SANDBOX=0 to use a real ad account (README, "Meta Custom Audiences").
export BEHAVIOR_SYNC_META_SANDBOX_PORT="${BEHAVIOR_SYNC_META_SANDBOX_PORT:-8701}"
if [ "${BEHAVIOR_SYNC_META_SANDBOX:-1}" != 0 ]; then
    AIRFLOW_CONN_META_DEFAULT='{"conn_type": "meta_ads", "host": "http://127.0.0.1:'"$BEHAVIOR_SYNC_META_SANDBOX_PORT"'", '
    AIRFLOW_CONN_META_DEFAULT+='"password": "sandbox-meta-token", "extra": {"ad_account_id": "act_1000000001"}}'
    export AIRFLOW_CONN_META_DEFAULT
fi

# The demo's HubSpot connection: the local HubSpot sandbox (demo token, portal 1000001, professional
# tier); BEHAVIOR_SYNC_HUBSPOT_SANDBOX=0 to use a real portal (README, "HubSpot lists").
export BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT="${BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT:-8702}"
if [ "${BEHAVIOR_SYNC_HUBSPOT_SANDBOX:-1}" != 0 ]; then
    AIRFLOW_CONN_HUBSPOT_DEFAULT='{"conn_type": "hubspot", "host": "http://127.0.0.1:'"$BEHAVIOR_SYNC_HUBSPOT_SANDBOX_PORT"'", '
    AIRFLOW_CONN_HUBSPOT_DEFAULT+='"password": "sandbox-hubspot-token", "extra": {"portal_id": "1000001", "account_tier": "professional"}}'
    export AIRFLOW_CONN_HUBSPOT_DEFAULT
fi

# The demo's CleverTap connection: the local CleverTap sandbox (its us1 path prefix) with its demo account
# and placeholder passcode (sandbox/clevertap/README.md). BEHAVIOR_SYNC_CLEVERTAP_SANDBOX=0 for a real account.
export BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT="${BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT:-8703}"
if [ "${BEHAVIOR_SYNC_CLEVERTAP_SANDBOX:-1}" != 0 ]; then
    AIRFLOW_CONN_CLEVERTAP_DEFAULT='{"conn_type": "clevertap", "host": "http://127.0.0.1:'"$BEHAVIOR_SYNC_CLEVERTAP_SANDBOX_PORT"'/us1", '
    AIRFLOW_CONN_CLEVERTAP_DEFAULT+='"password": "SANDBOXPASS", "extra": {"account_id": "SANDBOX-000-0001", "region": "us1"}}'
    export AIRFLOW_CONN_CLEVERTAP_DEFAULT
fi

# The demo's Google connection: the local Data Manager sandbox (anonymous credentials, never refreshed;
# its demo account; terms accepted). BEHAVIOR_SYNC_GOOGLE_SANDBOX=0 for a real account (README, "Google
# Customer Match").
export BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT="${BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT:-8704}"
if [ "${BEHAVIOR_SYNC_GOOGLE_SANDBOX:-1}" != 0 ]; then
    AIRFLOW_CONN_GOOGLE_ADS_DEFAULT='{"conn_type": "google_ads", "host": "http://127.0.0.1:'"$BEHAVIOR_SYNC_GOOGLE_SANDBOX_PORT"'", '
    AIRFLOW_CONN_GOOGLE_ADS_DEFAULT+='"extra": {"customer_id": "1234567890", "customer_match_terms_accepted": true}}'
    export AIRFLOW_CONN_GOOGLE_ADS_DEFAULT
fi

# The demo's Google Ads API connection google_ads_api_default: the local gRPC sandbox (its demo customer,
# which is also the login customer, and its placeholder developer token: not a secret, it only opens the
# sandbox; a static OAuth token that is never refreshed). gRPC trusts the sandbox's self-signed certificate
# only through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, read when gRPC is imported: so it is exported here, for
# every Airflow process and the task processes they start. The sandbox writes that trust bundle (gRPC's
# own roots + its certificate) when it starts. BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX=0 for a real account.
export BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT="${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT:-8705}"
export BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT="${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_INSPECTION_PORT:-8706}"
if [ "${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX:-1}" != 0 ]; then
    export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH="$BEHAVIOR_SYNC_DATA_DIR/google-ads-sandbox-tls/trust.pem"
    AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT='{"conn_type": "google_ads", "host": "127.0.0.1:'"$BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX_PORT"'", '
    AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT+='"password": "sandbox-developer-token", '
    AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT+='"extra": {"customer_id": "1234567890", "login_customer_id": "1234567890"}}'
    export AIRFLOW_CONN_GOOGLE_ADS_API_DEFAULT
fi

# Either Google sandbox settles uploads after 60 s: poll every 30 s (Google's own processing takes ~30 min).
if [ "${BEHAVIOR_SYNC_GOOGLE_SANDBOX:-1}" != 0 ] || [ "${BEHAVIOR_SYNC_GOOGLE_ADS_SANDBOX:-1}" != 0 ]; then
    export AIRFLOW_VAR_BEHAVIOR_SYNC_GOOGLE_POLL_SECONDS="${AIRFLOW_VAR_BEHAVIOR_SYNC_GOOGLE_POLL_SECONDS:-30}"
fi
