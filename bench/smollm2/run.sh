#!/usr/bin/env bash
# The SmolLM2-135M measurements of bench/RESULTS.md (issue 17, item 3): both recipe modes, sized for a
# shared 2-core CPU. Two chains run side by side, one torch thread each:
#   zero:   eval base -> GRPO (configs/smollm2-zero.yaml) -> eval
#   warmup: SFT on MATH's own level 1-2 solutions -> eval -> the same GRPO -> eval
# Data: python bench/smollm2/build_data.py /work/.mirror $DATA (MATH from aiwaves-cn/agents, pinned).
# Table and plots afterwards: node --import tsx bench/smollm2/plot.ts OUT FILE.png
# Usage: bench/smollm2/run.sh DATA OUT [STEPS]   (a step whose output exists is skipped: rerun to resume)
# CHAINS picks chains (default "zero warmup"). Sizes: EVAL_N problems x EVAL_TOKENS (30 x 256), SFT_STEPS x 8 sequences (8), RL_SETS (extra --set flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$1; out=$2; steps=${3:-4}
model=$(bash scripts/setup-fixtures-smollm2.sh)
evalset="--benchmarks math500 --data $data/math-l12-test --limit ${EVAL_N:-30} --prompt-template chat \
  --max-tokens ${EVAL_TOKENS:-256} --threads 1 --device cpu --batch-size 32"
rl() { # NAME MODEL
  node bin/simplerl.mjs train configs/smollm2-zero.yaml --name "$1" --set run.dir="$out/runs" \
    --set model.path="$2" --set data.train="$data/math-l12-train.jsonl" --set run.max_steps="$steps" \
    --set run.progress=false ${RL_SETS:-}
}
ev() {
  [ -f "$out/eval-$1/summary.json" ] && return 0
  node bin/simplerl.mjs eval --model "$2" $evalset --out "$out/eval-$1" --name "$1"
}
last() { echo "$out/runs/$1/checkpoints/$(cat "$out/runs/$1/checkpoints/LATEST")/policy"; }
zero() {
  ev base "$model"
  rl zero "$model"
  ev zero "$(last zero)"
}
warmup() {
  [ -f "$out/sft/model.safetensors" ] || node bin/simplerl.mjs sft --model "$model" --data "$data/math-l12-sft.jsonl" --out "$out/sft" \
    --max-steps "${SFT_STEPS:-8}" --batch-size 8 --lr 3e-5 --max-tokens 512 --micro-batch-tokens 2048 \
    --prompt-template chat --threads 1 --device cpu --seed 0
  ev sft "$out/sft"
  rl warmup "$out/sft"
  ev warmup "$(last warmup)"
}
mkdir -p "$out"
for chain in ${CHAINS:-zero warmup}; do $chain >> "$out/$chain.log" 2>&1 & done
wait
