#!/usr/bin/env bash
# `make rotate-fernet-key`: re-encrypt the local Airflow's secrets with a new Fernet key (README, "Secrets at
# rest and token rotation").
#
# The key is <Airflow home>/fernet_key (scripts/env.sh; BEHAVIOR_SYNC_AIRFLOW_HOME moves the home). Airflow
# must be stopped (`make stop`): running components hold the old key and could not read what is re-encrypted.
#   1. the key file becomes "new,old": Airflow encrypts with the first key and decrypts with any, so from here
#      on every secret stays readable whatever happens;
#   2. `airflow rotate-fernet-key` re-encrypts every connection, variable and trigger with the new key (one
#      transaction);
#   3. the key file becomes "new" alone: the old key decrypts nothing in the database any more.
# Safe to re-run after a failure (the file then holds several keys, each of which still decrypts).
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/env.sh
source "$SCRIPTS/env.sh"
KEY_FILE="$AIRFLOW_HOME/fernet_key"

shopt -s nullglob
pid_files=("$AIRFLOW_HOME"/run/*.pid)
if ((${#pid_files[@]} > 0)); then
    echo "rotate-fernet-key: Airflow is running (pid files in $AIRFLOW_HOME/run/): stop it first with 'make stop'" >&2
    exit 1
fi

# Replaces the key file in one step (a reader sees the old content or the new, never a partial file).
write_keys() {
    (umask 077 && printf '%s\n' "$1" >"$KEY_FILE.new")
    mv -f "$KEY_FILE.new" "$KEY_FILE"
}

old="$AIRFLOW__CORE__FERNET_KEY"
new="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')"
write_keys "$new,$old"
AIRFLOW__CORE__FERNET_KEY="$new,$old" airflow rotate-fernet-key
write_keys "$new"
echo "rotate-fernet-key: connections, variables and triggers re-encrypted; the new key is in $KEY_FILE"
