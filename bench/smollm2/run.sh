#!/usr/bin/env bash
# The SmolLM2-135M measurements of bench/RESULTS.md (issue 17, item 3): both recipe modes on a 2-core
# CPU, one torch thread (the other core ran the demo table beside it), one chain:
#   eval base -> Zero RL (GRPO) -> eval;  SFT on MATH's own level 1-2 solutions -> eval -> the same RL -> eval
# RL: configs/smollm2-zero.yaml with the original reward table (-1 no box, -0.5 boxed and wrong, +1),
# level-1 problems, 8 samples, DAPO dynamic sampling (<= 3 rounds of 4 prompts), T 0.7, lr 1e-5, no KL.
# Data: python bench/smollm2/build_data.py /work/.mirror $DATA (MATH from aiwaves-cn/agents, pinned).
# Table and plots afterwards: node --import tsx bench/smollm2/plot.ts OUT FILE.png
# Usage: bench/smollm2/run.sh DATA OUT [ZERO_STEPS] [WARM_STEPS]   (a stage whose output exists is skipped)
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$1; out=$2; zero_steps=${3:-6}; warm_steps=${4:-8}
model=$(bash scripts/setup-fixtures-smollm2.sh)
rl() { # NAME MODEL STEPS
  [ -f "$out/runs/$1/checkpoints/LATEST" ] && return 0
  node bin/simplerl.mjs train configs/smollm2-zero.yaml --name "$1" --set run.dir="$out/runs" \
    --set model.path="$2" --set data.train="$data/math-l12-train.jsonl" --set 'data.levels=[1]' \
    --set run.max_steps="$3" --set run.progress=false --set reward.preset=original --set reward.extract=boxed \
    --set algo.n_samples=8 --set algo.dynamic_sampling=true --set algo.max_sampling_rounds=3 \
    --set rollout.temperature=0.7 --set optim.actor_lr=1e-5 --set algo.kl.coef=0
}
ev() { # NAME MODEL: 30 held-out level 1-2 problems, greedy, 256 new tokens
  [ -f "$out/eval-$1/summary.json" ] && return 0
  node bin/simplerl.mjs eval --model "$2" --benchmarks math500 --data "$data/math-l12-test" --limit 30 \
    --prompt-template chat --max-tokens 256 --threads 1 --device cpu --batch-size 32 --out "$out/eval-$1" --name "$1"
}
last() { echo "$out/runs/$1/checkpoints/$(cat "$out/runs/$1/checkpoints/LATEST")/policy"; }
mkdir -p "$out"
ev base "$model"
rl zero "$model" "$zero_steps"
ev zero "$(last zero)"
[ -f "$out/sft/model.safetensors" ] || node bin/simplerl.mjs sft --model "$model" --data "$data/math-l12-sft.jsonl" \
  --out "$out/sft" --max-steps 16 --batch-size 8 --lr 5e-5 --max-tokens 512 --micro-batch-tokens 2048 \
  --prompt-template chat --threads 1 --device cpu --seed 0
ev sft "$out/sft"
rl warmup "$out/sft" "$warm_steps"
ev warmup "$(last warmup)"
