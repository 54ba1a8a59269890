"""LoRA against full fine-tuning on one model, one process per mode (so that the peak RSS is the mode's
own): each RL-shaped step generates n samples for P prompts (random prompt ids, fixed seeds) and takes
one GRPO update on them (random advantages: this measures cost, not learning). Prints one JSON line:
seconds per step (generate, train), peak RSS, parameter counts. With --merge-bench it instead times
the two ways to generate from merged weights (model/lora.py `merged`): a merged copy per layer vs
merge and unmerge in place, and generation without merging at all, as ratios in the same process.

  PYTHONPATH=engine .venv/bin/python bench/lora_step.py --model DIR --mode lora --rank 16 --alpha 32
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from simplerl_engine.model.lora import merged  # noqa: E402
from simplerl_engine.worker import Worker  # noqa: E402


def _prompts(num: int, length: int, vocab: int) -> dict:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (num, length), generator=g)
    return {"ids": ids.reshape(-1).to(torch.int32), "offsets": torch.arange(0, num * length + 1, length, dtype=torch.int32)}


def _train_arrays(prompts: dict, out: dict, n: int, seed: int) -> dict:
    p_off, r_off = prompts["offsets"].tolist(), out["offsets"].tolist()
    seqs, prompt_lens = [], []
    for r in range(len(r_off) - 1):
        p = r // n
        seqs.append(torch.cat([prompts["ids"][p_off[p]:p_off[p + 1]], out["ids"][r_off[r]:r_off[r + 1]]]))
        prompt_lens.append(p_off[p + 1] - p_off[p])
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.int32)
    g = torch.Generator().manual_seed(seed)
    T = int(out["ids"].numel())
    return {"ids": torch.cat(seqs).to(torch.int32), "offsets": torch.cat([torch.zeros(1, dtype=torch.int32), lens.cumsum(0, dtype=torch.int32)]),
            "prompt_lens": torch.tensor(prompt_lens, dtype=torch.int32), "advantages": torch.randn(T, generator=g),
            "old_logprobs": out["logprobs"]}


def _load(a) -> Worker:
    w = Worker(torch.device("cpu"), 1)
    args = {"role": "policy", "path": a.model, "optim": {"lr": a.lr}}
    if a.mode == "lora":
        args["lora"] = {"rank": a.rank, "alpha": a.alpha}
    w.call("load", args, {})
    return w


def run_steps(a) -> dict:
    w = _load(a)
    vocab = w.roles["policy"].config["vocab_size"]
    prompts = _prompts(a.prompts, a.prompt_len, vocab)
    gen_s, train_s = [], []
    for step in range(a.steps):
        t0 = time.perf_counter()
        _, out = w.call("generate", {"n": a.n, "max_new_tokens": a.max_new, "seed": step}, prompts)
        t1 = time.perf_counter()
        w.call("train", {"role": "policy", "loss": "grpo", "loss_args": {"kl_coef": 0.0}}, _train_arrays(prompts, out, a.n, step))
        gen_s.append(t1 - t0)
        train_s.append(time.perf_counter() - t1)
    stats = w.call("stats", {}, {})[0]["roles"]["policy"]
    return {"mode": a.mode, "model": a.model, "generate_s": gen_s, "train_s": train_s, "num_params": stats["num_params"],
            "num_trainable_params": stats["num_trainable_params"], "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": torch.get_num_threads()}


def _timed(fn, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def merge_bench(a) -> dict:
    a.mode = "lora"
    w = _load(a)
    model = w.roles["policy"].model
    for m in model.modules():  # a trained-looking adapter (B = 0 would make every variant look free)
        if hasattr(m, "lora_B"):
            torch.nn.init.normal_(m.lora_B.weight, std=0.01)
    vocab = w.roles["policy"].config["vocab_size"]
    prompts = _prompts(a.prompts, a.prompt_len, vocab)

    def cycle(mode):
        with torch.inference_mode(), merged(model, mode):
            pass

    def generate_unmerged():
        from simplerl_engine.generate import generate

        rows = [prompts["ids"][i * a.prompt_len:(i + 1) * a.prompt_len].tolist() for i in range(a.prompts)]
        model.eval()
        with torch.inference_mode():
            generate(model, rows, n=a.n, temperature=1.0, max_new_tokens=a.max_new, seeds=list(range(a.prompts)))

    gen = lambda: w.call("generate", {"n": a.n, "max_new_tokens": a.max_new, "seed": 0}, prompts)  # noqa: E731
    out = {}
    for r in range(2):  # interleaved, twice: the machine is shared
        out.setdefault("merge_copy_s", []).append(_timed(lambda: cycle("copy"), a.reps))
        out.setdefault("merge_inplace_s", []).append(_timed(lambda: cycle("inplace"), a.reps))
        out.setdefault("generate_merged_s", []).append(_timed(gen, 1))
        out.setdefault("generate_unmerged_s", []).append(_timed(generate_unmerged, 1))
    return {"model": a.model, "rank": a.rank, "rows": a.prompts * a.n, "max_new_tokens": a.max_new, **out}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--mode", choices=("full", "lora"), default="lora")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--alpha", type=float, default=32.0)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--prompts", type=int, default=4)
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--prompt-len", type=int, default=32)
    p.add_argument("--max-new", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--merge-bench", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    print(json.dumps(merge_bench(a) if a.merge_bench else run_steps(a)), flush=True)


if __name__ == "__main__":
    main()
