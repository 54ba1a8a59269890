"""Where the time of the engine's `train` step goes on a GPU (torch.profiler), next to the plain step of
bench/engine_train.py on the same model and batch: ms per step of each, then the top operators of
each by CUDA time, and the engine's step at other micro-batch budgets.

  python3 bench/engine_train_profile.py --device cuda --hidden 896 --layers 24 --heads 14 --kv-heads 2 --intermediate 4864 --vocab 151936 --docs 16 --mean-len 400 --prompt-len 100
"""

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "engine"))

import engine_train as et  # noqa: E402
from simplerl_engine.worker import Worker  # noqa: E402


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def ms_per_step(fn, steps: int = 5) -> float:
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    return (time.perf_counter() - t0) / steps * 1e3


def main():
    sys.argv += [] if "--rounds" in sys.argv else ["--rounds", "1"]
    a = et.parse_args()
    device = torch.device(a.device)
    worker = Worker(device, 1)
    worker.call("load", {"role": "policy", "config": et.hf_config(a), "seed": 0, "optim": et.OPTIM}, {})
    plain_worker = Worker(device, 1)
    plain_worker.call("load", {"role": "policy", "config": et.hf_config(a), "seed": 0}, {})
    plain = et.PlainStep(plain_worker.roles["policy"].model.float().requires_grad_(True).train(), et.make_batch(a, 0), 1.0, device)
    batch = et.make_batch(a, 0)
    loss_norm = float((batch["offsets"][1:] - batch["offsets"][:-1] - batch["prompt_lens"]).sum())
    plain.loss_norm = loss_norm

    def engine(mbt):
        return lambda: worker.call("train", {"role": "policy", "loss": "sft", "loss_norm": loss_norm, "micro_batch_tokens": mbt}, batch)

    for _ in range(2):
        engine(a.micro_batch_tokens)()
        plain()
    print(f"tokens {batch['ids'].numel()}, torch {torch.__version__}, {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}")
    print(f"plain: {ms_per_step(plain):.1f} ms/step")
    for mbt in (a.micro_batch_tokens, 2 * a.micro_batch_tokens, 4096):
        engine(mbt)()
        print(f"engine micro_batch_tokens {mbt}: {ms_per_step(engine(mbt)):.1f} ms/step")
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    for name, fn in (("engine", engine(a.micro_batch_tokens)), ("plain", plain)):
        with profile(activities=acts) as prof:
            for _ in range(2):
                fn()
            sync()
        print(f"\n--- {name}: 2 steps, top operators by self CUDA time")
        print(prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=60))
        print(f"--- {name}: top by CPU time total")
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=15, max_name_column_width=60))


if __name__ == "__main__":
    main()
