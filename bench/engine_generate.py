"""Generation throughput of simplerl_engine vs Hugging Face transformers' `generate`, same random
model, same batch, measured in the same run; prints tokens/s and the ratio.

  .venv/bin/python bench/engine_generate.py                      # CPU demo size: ~1M params, 32 prompts x 4 samples x 100 tokens
  .venv/bin/python bench/engine_generate.py --model DIR --prompts 16 --n 4 --max-new-tokens 128   # a real checkpoint (e.g. SmolLM2-135M)
  .venv/bin/python bench/engine_generate.py --device cuda --dtype bfloat16 --hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936 --prompts 64 --n 8 --max-new-tokens 512
"""

import argparse
import json
import os
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "engine"))

from simplerl_engine.generate import generate  # noqa: E402
from simplerl_engine.weights import load_pretrained  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--model", default=None, help="Hugging Face folder to time instead of a random Qwen2 (its vocabulary is used)")
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--intermediate", type=int, default=384)
    p.add_argument("--prompts", type=int, default=32)
    p.add_argument("--n", type=int, default=4, help="samples per prompt")
    p.add_argument("--prompt-len", type=int, default=40, help="longest prompt; others are shorter (ragged)")
    p.add_argument("--max-new-tokens", type=int, default=100)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--repeats", type=int, default=3, help="timed runs each (best is reported)")
    p.add_argument("--skip-hf", action="store_true")
    return p.parse_args()


def make_checkpoint(args, path: str):
    import transformers

    if args.model:
        return transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=getattr(torch, args.dtype)).to(args.device).eval()
    cfg = transformers.Qwen2Config(vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate, num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, max_position_embeddings=max(2048, args.prompt_len + args.max_new_tokens), tie_word_embeddings=True)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(cfg)
    model.save_pretrained(path)
    return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, args.dtype)).to(args.device).eval()


def timed(fn) -> tuple[float, float]:
    """→ (wall seconds, process CPU seconds). On a shared CPU the CPU time is the steadier measure:
    time spent descheduled by other processes does not count."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.model:
        with open(os.path.join(args.model, "config.json")) as f:
            args.vocab = json.load(f)["vocab_size"]
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(max(1, args.prompt_len // 2), args.prompt_len + 1, (args.prompts,), generator=gen).tolist()
    prompts = [torch.randint(0, args.vocab, (n,), generator=gen).tolist() for n in lengths]
    num_rows = args.prompts * args.n
    num_tokens = num_rows * args.max_new_tokens  # no stop ids: every row runs to the limit on both sides
    with tempfile.TemporaryDirectory() as path:
        hf = make_checkpoint(args, path)
        ours = load_pretrained(args.model or path, dtype=getattr(torch, args.dtype), device=args.device)
    num_params = sum(p.numel() for p in ours.parameters())
    print(f"model: {args.model or 'random qwen2'} {num_params / 1e6:.2f}M params, {args.dtype} on {args.device}, threads {args.threads}")
    print(f"batch: {args.prompts} prompts (len {min(lengths)}-{max(lengths)}) x n={args.n} = {num_rows} rows x {args.max_new_tokens} new tokens, T={args.temperature}")

    def run_ours():
        out = generate(ours, prompts, n=args.n, temperature=args.temperature, max_new_tokens=args.max_new_tokens, seeds=list(range(args.prompts)))
        assert out.num_tokens == num_tokens

    T0 = max(lengths)
    ids = torch.tensor([[0] * (T0 - len(p)) + p for p in prompts], device=args.device)
    mask = torch.tensor([[0] * (T0 - len(p)) + [1] * len(p) for p in prompts], device=args.device)

    is_sampling = args.temperature > 0
    if not is_sampling:  # greedy generate in transformers takes no num_return_sequences: repeat the rows
        ids, mask = ids.repeat_interleave(args.n, 0), mask.repeat_interleave(args.n, 0)
    sampling = dict(do_sample=True, temperature=args.temperature, top_p=1.0, top_k=0, num_return_sequences=args.n) if is_sampling else dict(do_sample=False)

    @torch.inference_mode()
    def run_hf():
        out = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens, pad_token_id=0, eos_token_id=None, **sampling)
        assert out.shape == (num_rows, T0 + args.max_new_tokens)

    runs = {"simplerl_engine": run_ours} if args.skip_hf else {"simplerl_engine": run_ours, f"transformers {__import__('transformers').__version__}": run_hf}
    best = {name: (float("inf"), float("inf")) for name in runs}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(args.repeats):  # interleaved, so that both see the same machine load
        for name, fn in runs.items():
            wall, cpu = timed(fn)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    for name, (wall, cpu) in best.items():
        print(f"{name}: best wall {wall:.3f} s ({num_tokens / wall:,.0f} tokens/s), best CPU time {cpu:.3f} s ({num_tokens / cpu:,.0f} tokens/s)")
    if not args.skip_hf:
        (ours_wall, ours_cpu), (hf_wall, hf_cpu) = best.values()
        print(f"ratio (ours / transformers tokens/s): {hf_wall / ours_wall:.2f}x by wall time, {hf_cpu / ours_cpu:.2f}x by CPU time")


if __name__ == "__main__":
    main()
