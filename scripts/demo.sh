#!/usr/bin/env bash
# The main job: train an LSTM on the built-in wind data, print its metrics, write forecast.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python examples/demo.py "$@"
