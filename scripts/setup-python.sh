#!/usr/bin/env bash
# Creates .venv with what the engine needs (idempotent: a stamp skips work when nothing changed).
#   scripts/setup-python.sh        runtime (torch, msgpack, safetensors, numpy)
#   scripts/setup-python.sh --dev  plus the test references (pytest, transformers, math-verify)
# SIMPLERL_PYTHON=/path/to/python uses that interpreter as it is (e.g. a GPU machine's own torch).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SIMPLERL_PYTHON:-}" ]; then exit 0; fi
dev=0; [ "${1:-}" = "--dev" ] && dev=1
reqs="engine/requirements.txt"; [ $dev = 1 ] && reqs="$reqs engine/requirements-dev.txt"
stamp=".venv/.simplerl-stamp-$(cat $reqs | sha1sum | cut -c1-12)"
[ -f "$stamp" ] && exit 0
[ -x .venv/bin/python ] || python3 -m venv .venv
py=.venv/bin/python
if ! $py -c 'import torch' 2>/dev/null; then
  echo "simplerl: installing torch==2.13.0 (CPU build) into .venv" >&2
  $py -m pip install -q --disable-pip-version-check torch==2.13.0
fi
for r in $reqs; do $py -m pip install -q --disable-pip-version-check -r "$r"; done
touch "$stamp"
