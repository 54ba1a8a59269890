"""Training throughput of the engine's `train` op (Worker.call, loss `sft`: argument parsing, micro-batch
planning, chunked log-probs, clipping, AdamW) vs a plain-PyTorch training step of the same model on the
same batch (right-padded, full logits, cross-entropy, clip, AdamW), measured in the same run,
interleaved. Prints tokens/s (wall and CPU time) and the ratio engine / plain. On CUDA both sides
keep fp32 master weights and run under bf16 autocast (the engine's default there), and the peak GPU
memory of one step of each side is printed too.

  .venv/bin/python bench/engine_train.py                    # CPU demo size: 0.81M params, 32 docs of ~50 tokens
  .venv/bin/python bench/engine_train.py --threads 2 --rounds 5
  .venv/bin/python bench/engine_train.py --device cuda --hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936 --docs 16 --mean-len 400
  ... --micro-batch-tokens 8192,16384,4096 --diagnose   # several budgets in one run; launches and host syncs per step

`--diagnose` profiles one step of each side (kernel launches, host syncs, copies: CUDA runtime calls
counted by torch.profiler) and lists where the engine's step synchronises with the GPU
(torch.cuda.set_sync_debug_mode). SIMPLERL_BENCH_ENGINE_DIR=DIR imports `simplerl_engine` from DIR
instead of engine/ (a copy of an older engine: before/after in the same session; the plain step uses
that copy's model too).
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

ENGINE_DIR = os.environ.get("SIMPLERL_BENCH_ENGINE_DIR") or os.path.join(os.path.dirname(__file__), "..", "engine")
sys.path.insert(0, ENGINE_DIR)

from simplerl_engine.worker import Worker  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=352)
    p.add_argument("--docs", type=int, default=32, help="documents per step")
    p.add_argument("--mean-len", type=int, default=50, help="mean document length (lengths uniform in [mean/3, 5·mean/3])")
    p.add_argument("--prompt-len", type=int, default=12, help="mean prompt length (loss on the rest)")
    p.add_argument("--steps", type=int, default=10, help="timed train steps per round and side")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    p.add_argument("--micro-batch-tokens", default="8192", help="the engine's budget; a comma list runs each in turn")
    p.add_argument("--diagnose", action="store_true", help="count launches and host syncs per step (CUDA)")
    a = p.parse_args()
    a.budgets = [int(x) for x in str(a.micro_batch_tokens).split(",")]
    a.micro_batch_tokens = a.budgets[0]
    return a


def hf_config(a) -> dict:
    return {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": a.vocab, "hidden_size": a.hidden,
            "intermediate_size": a.intermediate, "num_hidden_layers": a.layers, "num_attention_heads": a.heads,
            "num_key_value_heads": a.kv_heads, "head_dim": a.hidden // a.heads, "hidden_act": "silu", "rms_norm_eps": 1e-6,
            "rope_theta": 10000, "max_position_embeddings": max(256, 2 * a.mean_len), "tie_word_embeddings": True,
            "initializer_range": 0.02, "bos_token_id": 1, "eos_token_id": 1}


def make_batch(a, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lens = torch.randint(max(2, a.mean_len // 3), max(3, 5 * a.mean_len // 3), (a.docs,), generator=g)
    prompt_lens = torch.minimum(torch.randint(max(1, a.prompt_len // 2), max(2, 3 * a.prompt_len // 2), (a.docs,), generator=g), lens)
    ids = torch.randint(0, a.vocab, (int(lens.sum()),), generator=g, dtype=torch.int32)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int32), lens.cumsum(0).int()])
    return {"ids": ids, "offsets": offsets, "prompt_lens": prompt_lens.int()}


OPTIM = {"lr": 2e-3, "schedule": "cosine", "warmup_steps": 100, "total_steps": 2000, "weight_decay": 0.01, "grad_clip": 1.0}


class PlainStep:
    """The reference: one right-padded [B, T] batch, full logits, masked cross-entropy / loss_norm, clip, AdamW."""

    def __init__(self, model: torch.nn.Module, batch: dict, loss_norm: float, device: torch.device):
        self.model, self.loss_norm = model, loss_norm
        lens = (batch["offsets"][1:] - batch["offsets"][:-1]).long()
        prompt_lens, offsets = batch["prompt_lens"].long(), batch["offsets"].long()
        T = int(lens.max())
        cols = torch.arange(T)[None, :]
        is_token = cols < lens[:, None]
        flat = batch["ids"].long()
        self.ids = torch.where(is_token, flat[(offsets[:-1, None] + cols).clamp(max=flat.numel() - 1)], 0).to(device)  # [B, T]
        # position t-1 predicts token t, for response tokens t
        self.loss_mask = ((cols[:, 1:] >= prompt_lens[:, None]) & (cols[:, 1:] < lens[:, None])).to(device)  # [B, T-1]
        self.attention_mask = is_token.long().to(device)
        decay = [p for p in model.parameters() if p.ndim >= 2]
        no_decay = [p for p in model.parameters() if p.ndim < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": OPTIM["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}], lr=OPTIM["lr"])

    def __call__(self) -> float:
        is_cuda = self.ids.is_cuda
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=is_cuda):  # as the engine on CUDA
            logits = self.model(self.ids)  # [B, T, V]; right padding needs no mask for the positions that count
        nll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), self.ids[:, 1:].reshape(-1), reduction="none")
        loss = (nll * self.loss_mask.reshape(-1)).sum() / self.loss_norm
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), OPTIM["grad_clip"])
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach())


def timed(fn, steps: int) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        fn()
    return time.perf_counter() - w0, time.process_time() - c0


# CUDA runtime / driver calls that launch kernels, copy, or wait for the device
LAUNCH_NAMES = ("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")
SYNC_NAMES = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")
COPY_NAMES = ("cudaMemcpyAsync", "cudaMemcpy")


def diagnose(name: str, fn) -> None:
    """Kernel launches, host syncs and copies of one step (fn ends with a synchronize of its own), and the
    Python lines that synchronised with the device."""
    import collections
    import warnings

    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
    counts = collections.Counter()
    for e in prof.events():
        counts[e.name] += 1
    launches = sum(counts[n] for n in LAUNCH_NAMES)
    syncs = {n: counts[n] for n in SYNC_NAMES if counts[n]}
    copies = sum(counts[n] for n in COPY_NAMES)
    print(f"{name:>7}: {launches} kernel launches, {copies} copies, syncs {syncs} in one step "
          f"(the bench's own torch.cuda.synchronize included)")
    if name != "engine":
        return
    sites = collections.Counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    for w in caught:
        if "synchroniz" in str(w.message):
            sites[f"{os.path.relpath(w.filename)}:{w.lineno}"] += 1
    print(f"{name:>7}: synchronising calls in one step (sync debug mode): {sum(sites.values())}")
    for site, n in sites.most_common():
        print(f"         {n:4d} x {site}")


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    worker = Worker(device, a.threads)
    worker.call("load", {"role": "policy", "config": hf_config(a), "seed": 0, "optim": OPTIM}, {})
    plain_worker = Worker(device, a.threads)
    plain_worker.call("load", {"role": "policy", "config": hf_config(a), "seed": 0}, {})
    plain_model = plain_worker.roles["policy"].model.float().requires_grad_(True).train()
    batch = make_batch(a, 0)
    num_tokens = batch["ids"].numel()
    loss_norm = float((batch["offsets"][1:] - batch["offsets"][:-1] - batch["prompt_lens"]).sum())
    arrays = {k: v.to(device) if a.device == "cpu" else v for k, v in batch.items()}
    plain = PlainStep(plain_model, batch, loss_norm, device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    lens = batch["offsets"][1:] - batch["offsets"][:-1]
    print(f"engine: {os.path.dirname(sys.modules['simplerl_engine'].__file__)}")
    print(f"model: hidden {a.hidden}, {a.layers} layers, {a.heads} heads, vocab {a.vocab}, "
          f"{worker.roles['policy'].num_params / 1e6:.2f}M params; batch {a.docs} docs, {num_tokens} tokens "
          f"(padded {a.docs * int(lens.max())}); {a.threads} thread(s), device {a.device}"
          f"{' (' + torch.cuda.get_device_name(device) + ')' if device.type == 'cuda' else ''}, torch {torch.__version__}")

    def plain_step():
        plain()
        sync()

    for budget in a.budgets:
        args = {"role": "policy", "loss": "sft", "loss_norm": loss_norm, "micro_batch_tokens": budget}

        def engine_step():
            worker.call("train", args, arrays)
            sync()

        for _ in range(3):  # warm-up
            engine_step()
            plain_step()
        rows = {"engine": [], "plain": []}
        for _ in range(a.rounds):
            rows["engine"].append(timed(engine_step, a.steps))
            rows["plain"].append(timed(plain_step, a.steps))
        print(f"--- micro_batch_tokens {budget}")
        med = {}
        for name, rs in rows.items():
            wall = statistics.median(r[0] for r in rs) / a.steps
            cpu = statistics.median(r[1] for r in rs) / a.steps
            med[name] = (wall, cpu)
            print(f"{name:>7}: {num_tokens / wall:8.0f} tokens/s wall ({wall * 1e3:6.1f} ms/step), "
                  f"{num_tokens / cpu:8.0f} tokens/s per CPU-second ({cpu * 1e3:6.1f} ms CPU/step)")
        print(f"ratio engine/plain: {med['plain'][0] / med['engine'][0]:.2f}x wall, {med['plain'][1] / med['engine'][1]:.2f}x CPU")
        if device.type == "cuda":
            for name, fn in (("engine", engine_step), ("plain", plain_step)):
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
                fn()
                peak = torch.cuda.max_memory_allocated(device)
                print(f"{name:>7}: peak GPU memory of a step {peak / 2**30:.2f} GiB allocated "
                      f"({(peak - base) / 2**30:.2f} GiB above the {base / 2**30:.2f} GiB held between steps)")
            if a.diagnose:
                for name, fn in (("engine", engine_step), ("plain", plain_step)):
                    try:
                        diagnose(name, fn)
                    except Exception as e:  # a diagnostic must not cost the measurements after it
                        print(f"{name:>7}: diagnose failed: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
