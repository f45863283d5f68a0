#!/usr/bin/env bash
# The admin UI's browser tests drive Debian's Chromium (/usr/bin/chromium) with playwright-core;
# nothing downloads a browser of its own. Installs the package when it is missing (needs root, or
# sudo, and Debian's package lists).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

echo "== installing Debian's chromium for the browser tests (/usr/bin/chromium is missing)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "scripts/ensure-chromium.sh: /usr/bin/chromium is missing and this user cannot install it;" >&2
    echo "  run as root: apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
