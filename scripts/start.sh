#!/usr/bin/env bash
# `npm run start`: install node_modules if needed, build, and serve the app (COOP/COEP on).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-4173}"

bash .ci/setup.sh --node
npm run build
echo
echo "Quicksilver is at  http://localhost:${PORT}/   (Ctrl+C to stop)"
echo
exec npx vite preview --port "$PORT" --strictPort --host localhost
