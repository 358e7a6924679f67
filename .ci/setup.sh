#!/usr/bin/env bash
# Idempotent machine set-up for development and CI (Debian; root, or sudo for apt).
#   bash .ci/setup.sh            system packages (browser, Vulkan loader, Python for training/)
#                                + node_modules
#   bash .ci/setup.sh --node     node_modules only (what `npm run start` needs)
# Does nothing that is already done: apt only when a package is missing, `npm ci` only when
# node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--node" ]; then
  # chromium: the e2e browser, and its SwiftShader Vulkan driver (WebGPU without a GPU);
  # libvulkan1: the Vulkan loader for it and for the `webgpu` npm package in unit tests;
  # the python3-* packages: training/ and its tests.
  APT_PACKAGES=(chromium libvulkan1 python3-torch python3-numpy libopenblas0-openmp python3-pytest python3-regex)
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing missing packages: ${missing[*]}"
    SUDO=''
    if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${APT_PACKAGES[@]}"
  fi
fi

# npm writes node_modules/.package-lock.json on every install; older than the lock file means
# the dependencies changed since.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo 'setup: npm ci'
  if ! npm ci --no-audit --no-fund; then
    # vite 8.4 lists an optional, Windows-only dependency (napi-windows-process-start-time) that
    # the registry does not serve; the lock file cannot record it, and `npm ci` rejects the lock
    # as out of sync. `npm install` skips the missing optional package and installs exactly the
    # locked versions; --no-save leaves package.json and package-lock.json untouched.
    echo 'setup: npm ci refused the lock file; installing the same lock with npm install --no-save'
    npm install --no-save --no-audit --no-fund
  fi
fi
echo 'setup: ok'
