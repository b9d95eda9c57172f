#!/usr/bin/env bash
# Create or reuse the virtual environment .venv and install windwidgets into it.
# Usage: scripts/setup.sh [extra,...]   An installed torch is kept (a CUDA build stays);
# where there is none, torch==2.13.0 is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${WINDWIDGETS_VENV:-.venv}"
extras="${1:-}"
if [ ! -x "$venv/bin/python" ]; then
  if python3 -c "import torch" 2>/dev/null; then
    python3 -m venv --system-site-packages "$venv"   # see the torch already installed
  else
    python3 -m venv "$venv"
  fi
fi
python="$venv/bin/python"
stamp="$venv/.windwidgets-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16) ${extras}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log="$venv/pip.log"
  echo "installing windwidgets${extras:+[$extras]} and what it needs into $venv (a few minutes the first time; log: $log)"
  {
    "$python" -c "import torch" 2>/dev/null || "$python" -m pip install "torch==2.13.0"
    "$python" -m pip install -e ".${extras:+[$extras]}"
  } >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "install failed; full log: $log" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
