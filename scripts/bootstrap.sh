#!/usr/bin/env bash
# Create or refresh the project's virtualenv .venv (Python 3.11).
#
# Installs requirements.txt + requirements-dev.txt (pinned, locked by constraints.txt), then
# the project itself with --no-deps as an editable local Airflow provider (pyproject.toml's
# apache_airflow_provider entry point gives the connection types their UI forms).
# The install runs only when requirements*.txt, constraints.txt or pyproject.toml changed
# since the last successful one (a sha256 stamp in .venv), so re-runs take a second.
#
# Knobs: BEHAVIOR_SYNC_PYTHON (interpreter used to create .venv, default python3.11).
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="$PROJECT_DIR/.venv"
PYTHON="${BEHAVIOR_SYNC_PYTHON:-python3.11}"
STAMP="$VENV/.behavior_sync_install.sha256"
INPUTS=(requirements.txt requirements-dev.txt constraints.txt pyproject.toml)

die() {
    echo "bootstrap: ERROR: $*" >&2
    exit 1
}

is_python311() {
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1
}

if [[ ! -x "$VENV/bin/python" ]]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1 || ! is_python311 "$PYTHON"; then
        die "'$PYTHON' (Python 3.11) was not found or does not run.
  Behavior Sync needs Python 3.11 exactly (Apache Airflow 3.3 and the pinned lock file).
  Install it, e.g. 'sudo apt install python3.11 python3.11-venv', 'brew install python@3.11'
  or 'pyenv install 3.11', then run this again. To use another interpreter:
  BEHAVIOR_SYNC_PYTHON=/path/to/python3.11 make run"
    fi
    echo "bootstrap: creating $VENV with $(command -v "$PYTHON")"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "'$PYTHON -m venv' failed (on Debian/Ubuntu: sudo apt install python3.11-venv)"
fi
is_python311 "$VENV/bin/python" \
    || die "$VENV does not run Python 3.11 (made by another interpreter?). Remove it (rm -rf .venv) and run again."

# One bootstrap at a time (make run and make test started together).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$VENV/.bootstrap.lock"
    flock 9
fi

wanted="$(cd "$PROJECT_DIR" && "$VENV/bin/python" - "${INPUTS[@]}" <<'EOF'
import hashlib, sys
digest = hashlib.sha256()
for name in sys.argv[1:]:
    digest.update(name.encode() + b"\0")
    with open(name, "rb") as handle:
        digest.update(hashlib.sha256(handle.read()).digest())
print(digest.hexdigest())
EOF
)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then
    exit 0
fi

echo "bootstrap: installing dependencies into .venv (the first time takes a few minutes)"
cd "$PROJECT_DIR"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip
"${pip[@]}" install --progress-bar off -r requirements.txt -r requirements-dev.txt \
    | { grep -v '^Requirement already satisfied' || true; }
"${pip[@]}" install --quiet --no-deps -e .
echo "$wanted" >"$STAMP"
echo "bootstrap: .venv is ready"
