#!/usr/bin/env bash
# The main job: run the quickstart notebook end to end without a browser (an LSTM on the
# built-in wind data, a forecast with its band, the error by lead time) and write an HTML
# report and the pictures under demo-output/ (python -m windwidgets demo --help: the options).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demo
exec .venv/bin/python -m windwidgets demo "$@"
