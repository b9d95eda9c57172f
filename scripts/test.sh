#!/usr/bin/env bash
# The test suite, with everything it needs installed first (Chromium for the browser test).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "chromium is missing: run 'sudo apt-get install chromium' (the browser test is skipped; under CI=true it fails)" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
