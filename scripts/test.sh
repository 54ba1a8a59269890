#!/usr/bin/env bash
# Every test: TypeScript (type check, lint, node:test) and the engine (pytest). Assumes `npm ci` ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-python.sh --dev
bash scripts/setup-browser.sh
bash scripts/setup-fixtures-tokenizers.sh >/dev/null
bash scripts/setup-fixtures-smollm2.sh >/dev/null  # the real pretrained test model (cached)
npx tsc --noEmit -p .
npx biome check src tests bench
node --import tsx tests/run-all.ts
py="${SIMPLERL_PYTHON:-.venv/bin/python}"
"$py" -m pytest -q engine/tests
