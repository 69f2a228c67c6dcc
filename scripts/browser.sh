#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver (for the Behavior Sync page's browser test) when missing.
#
# Idempotent and instant when both are on PATH. Needs root (or sudo) and Debian's package archive;
# `make test` (and so CI) runs it. The test itself fails under CI=true when Chromium is missing.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "browser: chromium/chromedriver missing and not root: apt-get install chromium chromium-driver" >&2
    exit 1
fi
echo "browser: installing Debian's chromium and chromium-driver (apt-get)"
"${as_root[@]}" apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver \
    >/dev/null
echo "browser: $(chromium --version 2>/dev/null | tail -n 1)"
