"""Generation throughput of simplerl_engine vs Hugging Face transformers' `generate`, same random
model, same batch, measured in the same run; prints tokens/s and the ratio.

  .venv/bin/python bench/engine_generate.py                      # CPU demo size: ~1M params, 32 prompts x 4 samples x 100 tokens
  .venv/bin/python bench/engine_generate.py --device cuda --dtype bfloat16 --hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936 --prompts 64 --n 8 --max-new-tokens 512
"""

import argparse
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

    cfg = transformers.Qwen2Config(vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate, num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, max_position_embeddings=max(2048, args.prompt_len + args.max_new_tokens), tie_word_embeddings=True)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(cfg)
    model.save_pretrained(path)
    return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, args.dtype)).to(args.device).eval()


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    lengths = torch.randint(max(1, args.prompt_len // 2), args.prompt_len + 1, (args.prompts,), generator=gen).tolist()
    prompts = [torch.randint(0, args.vocab, (n,), generator=gen).tolist() for n in lengths]
    num_rows = args.prompts * args.n
    num_tokens = num_rows * args.max_new_tokens  # no stop ids: every row runs to the limit on both sides
    with tempfile.TemporaryDirectory() as path:
        hf = make_checkpoint(args, path)
        ours = load_pretrained(path, dtype=getattr(torch, args.dtype), device=args.device)
    num_params = sum(p.numel() for p in ours.parameters())
    print(f"model: qwen2 {num_params / 1e6:.2f}M params, {args.dtype} on {args.device}, threads {args.threads}")
    print(f"batch: {args.prompts} prompts (len {min(lengths)}-{max(lengths)}) x n={args.n} = {num_rows} rows x {args.max_new_tokens} new tokens, T={args.temperature}")

    def run_ours():
        out = generate(ours, prompts, n=args.n, temperature=args.temperature, max_new_tokens=args.max_new_tokens, seeds=list(range(args.prompts)))
        assert out.num_tokens == num_tokens

    run_ours()  # warm-up
    t_ours = best_of(args.repeats, run_ours)
    print(f"simplerl_engine: {t_ours:.3f} s, {num_tokens / t_ours:,.0f} tokens/s")
    if args.skip_hf:
        return

    T0 = max(lengths)
    ids = torch.tensor([[0] * (T0 - len(p)) + p for p in prompts], device=args.device)
    mask = torch.tensor([[0] * (T0 - len(p)) + [1] * len(p) for p in prompts], device=args.device)

    @torch.inference_mode()
    def run_hf():
        out = hf.generate(input_ids=ids, attention_mask=mask, do_sample=args.temperature > 0, temperature=args.temperature or None, top_p=1.0, top_k=0, num_return_sequences=args.n, max_new_tokens=args.max_new_tokens, min_new_tokens=args.max_new_tokens, pad_token_id=0, eos_token_id=None)
        assert out.shape == (num_rows, T0 + args.max_new_tokens)

    run_hf()
    t_hf = best_of(args.repeats, run_hf)
    print(f"transformers {__import__('transformers').__version__} generate: {t_hf:.3f} s, {num_tokens / t_hf:,.0f} tokens/s")
    print(f"ratio (ours / transformers tokens/s): {t_hf / t_ours:.2f}x")


if __name__ == "__main__":
    main()
