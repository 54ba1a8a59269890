#!/usr/bin/env bash
# One GPU session's checks and measurements in one go (bench/RESULTS.md "Engine (GPU)"): the machine,
# the CUDA tests, the throughput and memory benchmarks, then the engine's CPU suite. Each part has its
# own time limit and log file under $OUT (default /tmp/simplerl-gpu-out); a failing part does not stop the others.
#   bash bench/gpu_session.sh [parts...]     parts: env cuda_tests test_cuda profile05 gen05 train05 train05_16k train05_budgets launcher_repeat peak05 gen15 train15 cpu_suite
# train05_budgets: the 0.5B train benchmark at budgets 8192, 16384, 4096 with launch/sync counts (--diagnose); with
# OLD_ENGINE=DIR (a copy of an older engine/simplerl_engine's parent folder) the same again on that engine, as the baseline.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/simplerl-gpu-out}"
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
PY="${SIMPLERL_PYTHON:-python3}"
QWEN05=(--hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936)
QWEN15=(--hidden 1536 --layers 28 --heads 12 --kv-heads 2 --intermediate 8960 --vocab 151936)
PEAK05='{"config": {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 4096, "tie_word_embeddings": true}, "prompts": 8, "n": 8, "prompt_len": 128, "max_new_tokens": 512, "micro_batch_tokens": 4096, "device": "cuda"'

part() {  # part NAME SECONDS COMMAND...: runs it, logs to $OUT/NAME.log, prints the status line
  local name=$1 limit=$2
  shift 2
  echo "=== $name: $* (limit ${limit}s) $(date -u +%H:%M:%S)" | tee -a "$OUT/$name.log"
  local t0=$SECONDS
  timeout "$limit" "$@" >>"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$OUT/$name.log"
  echo "=== $name: rc $rc in $((SECONDS - t0)) s" | tee -a "$OUT/$name.log"
}

run_part() {
  case $1 in
    env) part env 60 bash -c "nvidia-smi; $PY -c 'import torch, transformers, sys; print(sys.version); print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"transformers\", transformers.__version__); print(torch.cuda.get_device_name(0), torch.cuda.get_device_properties(0).total_memory)'; nproc; free -g" ;;
    cuda_tests)
      part cuda_tests 200 "$PY" -m pytest -q -s -rA -p no:cacheprovider engine/tests/test_cuda.py
      part cuda_tests 90 env SIMPLERL_TEST_DEVICE=cuda "$PY" -m pytest -q -rA -p no:cacheprovider engine/tests/test_model_device.py
      part cuda_tests 90 env SIMPLERL_TEST_DEVICE=cuda SIMPLERL_TEST_DTYPE=float32 "$PY" -m pytest -q -rA -p no:cacheprovider engine/tests/test_model_device.py ;;
    gen05) part gen05 120 "$PY" bench/engine_generate.py --device cuda --dtype bfloat16 "${QWEN05[@]}" --prompts 64 --n 8 --prompt-len 128 --max-new-tokens 256 --repeats 2 ;;
    train05) part train05 100 "$PY" bench/engine_train.py --device cuda "${QWEN05[@]}" --docs 16 --mean-len 400 --prompt-len 100 --steps 5 --rounds 3 ;;
    peak05)
      part peak05 120 "$PY" engine/tests/peak_memory.py "$PEAK05}"
      part peak05 120 "$PY" engine/tests/peak_memory.py "$PEAK05, \"grad_checkpointing\": true}" ;;
    gen15) part gen15 150 "$PY" bench/engine_generate.py --device cuda --dtype bfloat16 "${QWEN15[@]}" --prompts 64 --n 8 --prompt-len 128 --max-new-tokens 256 --repeats 2 ;;
    train15) part train15 120 "$PY" bench/engine_train.py --device cuda "${QWEN15[@]}" --docs 8 --mean-len 400 --prompt-len 100 --steps 5 --rounds 3 ;;
    profile05) part profile05 150 "$PY" bench/engine_train_profile.py --device cuda "${QWEN05[@]}" --docs 16 --mean-len 400 --prompt-len 100 ;;
    test_cuda) part test_cuda 200 "$PY" -m pytest -q -s -rA -p no:cacheprovider engine/tests/test_cuda.py ;;
    train05_budgets)
      part train05_budgets 110 "$PY" bench/engine_train.py --device cuda "${QWEN05[@]}" --docs 16 --mean-len 400 --prompt-len 100 --steps 5 --rounds 3 --micro-batch-tokens 8192,16384,4096 --diagnose
      [ -n "${OLD_ENGINE:-}" ] && part train05_budgets 110 env SIMPLERL_BENCH_ENGINE_DIR="$OLD_ENGINE" "$PY" bench/engine_train.py --device cuda "${QWEN05[@]}" --docs 16 --mean-len 400 --prompt-len 100 --steps 5 --rounds 3 --micro-batch-tokens 8192,16384,4096 --diagnose ;;
    train05_16k) part train05_16k 100 "$PY" bench/engine_train.py --device cuda "${QWEN05[@]}" --docs 16 --mean-len 400 --prompt-len 100 --steps 5 --rounds 3 --micro-batch-tokens 16384 ;;
    launcher_repeat) for i in 1 2 3 4; do part launcher_repeat 60 "$PY" -m pytest -q -x -p no:cacheprovider engine/tests/test_cuda.py -k "server_on_cuda and launcher"; done ;;
    cpu_suite) part cpu_suite 240 "$PY" -m pytest -q -rfE -n 8 --timeout 200 -p no:cacheprovider engine/tests --ignore engine/tests/test_cuda.py ;;
    *) echo "unknown part $1" ;;
  esac
}

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(env cuda_tests gen05 train05 peak05 gen15 train15 cpu_suite)
for p in "${parts[@]}"; do run_part "$p"; done
