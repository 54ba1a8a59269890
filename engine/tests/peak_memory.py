"""Peak memory of the phases of a PPO step of the engine on CPU, for the memory planner's check
(src/plan/measured.test.ts). Prints one JSON line: {baseline_rss, generation, training} (bytes above
the baseline at each phase's peak).

How it is measured, and why so: CPU tensors live in malloc'd memory, so the resident set size (RSS) is
what a phase costs. The kernel keeps the high-water mark of RSS (VmHWM in /proc/self/status): it catches
a peak however briefly it lasts, with no sampling thread, and writing 5 to /proc/self/clear_refs resets
it (Linux >= 4.0), so each phase's own peak is read in one process. So that RSS follows the bytes of
live tensors (what the planner estimates, as CUDA's max_memory_allocated would, not its caching
allocator's reserve), glibc serves every block of 64 KiB or more with its own mmap, returned to the
system when freed (mallopt M_MMAP_THRESHOLD; else freed tensors stay in a fragmented heap and RSS
overstates the peak by up to ~60% here), and heap memory freed before each reading is handed back
(malloc_trim). The baseline is the RSS right before
the models are loaded, after a warm-up step on a very small model has paid the one-off costs the planner
does not model (kernel code pages, thread pools, the autograd engine). The phases are measured in the
steady state of a run: after one full step, so AdamW's moments exist and gradients have been freed.

On CUDA ("device": "cuda" in the spec) the reading is torch.cuda.max_memory_allocated (live tensors,
not the caching allocator's reserve), reset per phase, above memory_allocated before the models are
loaded; the roles take the engine's CUDA dtypes (trained: fp32 master weights under bf16 autocast;
ref: bf16). "grad_checkpointing": true loads the trained roles with activation checkpointing.

usage: python engine/tests/peak_memory.py '{"config": {...}, "prompts": P, "n": n, "prompt_len": Lp,
        "max_new_tokens": Ln, "micro_batch_tokens": T[, "device": "cuda", "grad_checkpointing": true]}'"""

import ctypes
import json
import os
import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simplerl_engine.worker import Worker  # noqa: E402


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def ragged(seqs):
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.int32)
    return (torch.tensor([t for s in seqs for t in s], dtype=torch.int32),
            torch.cat([torch.zeros(1, dtype=torch.int32), torch.cumsum(lens, 0, dtype=torch.int32)]))


def load(w: Worker, cfg: dict, grad_checkpointing: bool = False) -> None:
    optim = {"lr": 1e-5}
    ckpt = {"grad_checkpointing": True} if grad_checkpointing else {}
    w.call("load", {"role": "policy", "config": cfg, "seed": 0, "optim": optim, **ckpt}, {})
    w.call("load", {"role": "critic", "config": cfg, "seed": 1, "optim": optim, **ckpt}, {})
    w.call("load", {"role": "ref", "config": cfg, "seed": 2}, {})


def generation(w: Worker, cfg: dict, s: dict) -> None:
    g = torch.Generator().manual_seed(0)
    prompts = [torch.randint(0, cfg["vocab_size"], (s["prompt_len"],), generator=g).tolist() for _ in range(s["prompts"])]
    ids, offsets = ragged(prompts)
    w.call("generate", {"n": s["n"], "max_new_tokens": s["max_new_tokens"], "temperature": 1.0}, {"ids": ids, "offsets": offsets})


def training(w: Worker, cfg: dict, s: dict) -> None:
    """ref and critic forward passes, then both updates, on full-length responses (the planner's worst case)."""
    g = torch.Generator().manual_seed(1)
    seqs = [torch.randint(0, cfg["vocab_size"], (s["prompt_len"] + s["max_new_tokens"],), generator=g).tolist()
            for _ in range(s["prompts"] * s["n"])]
    ids, offsets = ragged(seqs)
    base = {"ids": ids, "offsets": offsets, "prompt_lens": torch.full((len(seqs),), s["prompt_len"], dtype=torch.int32)}
    T, mbt = len(seqs) * s["max_new_tokens"], s["micro_batch_tokens"]
    _, ref = w.call("forward", {"role": "ref", "outputs": ["logprobs"], "micro_batch_tokens": mbt}, base)
    _, val = w.call("forward", {"role": "critic", "outputs": ["values"], "micro_batch_tokens": mbt}, base)
    adv = torch.randn(T, generator=g)
    w.call("train", {"role": "policy", "loss": "ppo", "loss_args": {"kl_coef": 0.01}, "micro_batch_tokens": mbt},
           {**base, "advantages": adv, "old_logprobs": ref["logprobs"], "ref_logprobs": ref["logprobs"]})
    w.call("train", {"role": "critic", "loss": "value", "micro_batch_tokens": mbt},
           {**base, "returns": adv, "old_values": val["values"]})


def high_water() -> int:
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) * 1024


M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 64 << 10


def mmap_large_blocks() -> None:
    ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_free_memory() -> None:
    """glibc keeps freed chunks in its heap; hand them back so RSS is what is alive (as CUDA's
    memory_allocated is, next to its caching allocator's reserve)."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def reset_high_water() -> None:
    release_free_memory()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def main_cuda(s: dict) -> None:
    import time

    device = torch.device("cuda")
    w = Worker(device, 1)
    torch.cuda.synchronize()
    baseline = torch.cuda.memory_allocated(device)
    load(w, s["config"], s.get("grad_checkpointing", False))
    torch.cuda.synchronize()
    resident = torch.cuda.memory_allocated(device) - baseline
    training(w, s["config"], s)  # a first step: moments allocated, gradients freed (steady state)
    peaks, seconds = {}, {}
    for name, phase in (("generation", generation), ("training", training)):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        phase(w, s["config"], s)
        torch.cuda.synchronize()
        seconds[name] = round(time.perf_counter() - t0, 3)
        peaks[name] = torch.cuda.max_memory_allocated(device) - baseline
        peaks[f"{name}_reserved"] = torch.cuda.max_memory_reserved(device)
    print(json.dumps({"device": torch.cuda.get_device_name(device), "baseline_allocated": baseline,
                      "resident_after_load": resident, "steady_allocated": torch.cuda.memory_allocated(device) - baseline,
                      **peaks, "seconds": seconds}))


def main() -> None:
    s = json.loads(sys.argv[1])
    if s.get("device") == "cuda":
        return main_cuda(s)
    mmap_large_blocks()
    torch.set_num_threads(1)
    tiny = dict(s["config"], hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                num_key_value_heads=1, vocab_size=64)
    small = {"prompts": 2, "n": 2, "prompt_len": 4, "max_new_tokens": 4, "micro_batch_tokens": 64}
    warm = Worker(torch.device("cpu"), 1)
    load(warm, tiny)
    generation(warm, tiny, small)
    training(warm, tiny, small)
    del warm
    release_free_memory()
    baseline = rss()
    w = Worker(torch.device("cpu"), 1)
    load(w, s["config"])
    training(w, s["config"], s)  # a first step: moments allocated, gradients freed (steady state)
    peaks = {}
    for name, phase in (("generation", generation), ("training", training)):
        reset_high_water()
        phase(w, s["config"], s)
        peaks[name] = high_water() - baseline
    print(json.dumps({"baseline_rss": baseline, **peaks}))


if __name__ == "__main__":
    main()
