#!/usr/bin/env bash
# Every check, in order, each under its own time limit. Run as `npm test` (or `bash .ci/test.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."

# step SECONDS CMD...: run CMD, killed (with its whole process group) after SECONDS.
step() {
  local secs=$1
  shift
  echo
  echo "=== $* (limit ${secs}s)"
  timeout -k 10 "$secs" "$@"
}

step 1800 bash .ci/setup.sh
step 300 npm run typecheck

if [ -d training/tests ]; then
  echo
  echo "=== pytest training/tests (limit 1800s)"
  rc=0
  timeout -k 10 1800 /usr/bin/python3 -m pytest -q training/tests || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo 'pytest: no tests collected in training/tests'
  elif [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
else
  echo
  echo '=== training/tests does not exist yet: pytest skipped'
fi

step 900 npm run test:unit
step 600 npm run build
# The library package (dist-lib/: ES module + worker + .d.ts), and the examples type-checked
# against its declarations as a consumer sees them (e2e/examples.spec.ts builds both again from
# scratch and runs the example pages, offline included).
step 300 npm run build:lib
step 120 npx tsc -p examples/tsconfig.json
# dist/ was just built: the Playwright web server only serves it.
step 1800 env QS_E2E_SKIP_BUILD=1 npm run test:e2e

echo
echo '=== all checks passed'
