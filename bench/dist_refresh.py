"""Cost of refreshing the generation weights after an update under N ranks (FSDP2): the in-memory
refresh (one all-gather per parameter into a full-weight copy on every rank, fsdp.GenerationCopy)
against the file round trip it replaces (rank 0 gathers and writes a Hugging Face folder, every rank
reads it back), measured in the same run on the same model. Prints seconds, the ratio, and the memory
the copy costs per rank.

  .venv/bin/python bench/dist_refresh.py                       # CPU, 2 gloo ranks, Qwen2.5-0.5B shape (494M params)
  .venv/bin/python bench/dist_refresh.py --layers 4            # smaller
  torchrun --nproc-per-node 8 bench/dist_refresh.py --device cuda   # GPUs, NCCL (bf16 copy)
"""

import argparse
import datetime
import os
import shutil
import socket
import sys
import tempfile
import time

import torch
import torch.distributed as tdist

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "engine"))

QWEN25_05B = {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
              "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
              "max_position_embeddings": 4096, "tie_word_embeddings": True}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--nproc", type=int, default=2, help="ranks to spawn (CPU; under torchrun its world size is used)")
    p.add_argument("--layers", type=int, default=QWEN25_05B["num_hidden_layers"])
    p.add_argument("--repeats", type=int, default=3, help="timed runs each (best is reported)")
    return p.parse_args(argv)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench(args) -> None:
    from simplerl_engine import dist
    from simplerl_engine.dist_worker import DistWorker
    from simplerl_engine.fsdp import full_state_dict_on_cpu, plain_model_from
    from simplerl_engine.weights import load_pretrained, save_pretrained

    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if args.device == "cuda" else torch.device("cpu")
    w = DistWorker(device, torch.get_num_threads())
    w.call("load", {"role": "policy", "config": {**QWEN25_05B, "num_hidden_layers": args.layers}, "seed": 0,
                    "optim": {"lr": 1e-6}}, {})
    role = w.roles["policy"]
    refresh = []
    for i in range(args.repeats + 1):  # the first refresh also allocates the copy
        role.optim.num_steps += 1  # a new version of the weights, as after an optimiser step
        tdist.barrier()
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        w._generation_model(role)
        if device.type == "cuda":
            torch.cuda.synchronize()
        refresh.append(time.perf_counter() - t0)
    copy = w.generation_copies["policy"]

    folder = os.path.join(tempfile.gettempdir(), "simplerl-bench-refresh")
    files = []
    for _ in range(args.repeats):
        tdist.barrier()
        t0 = time.perf_counter()
        state = full_state_dict_on_cpu(role.model)
        if dist.is_main():
            save_pretrained(plain_model_from(role.model, state), folder)
        del state
        tdist.barrier()
        load_pretrained(folder, dtype=copy.model.lm_head.weight.dtype, device=device)
        tdist.barrier()
        files.append(time.perf_counter() - t0)
    if dist.is_main():
        shutil.rmtree(folder, ignore_errors=True)
        num_params = role.num_params
        best_r, best_f = min(refresh[1:]), min(files)
        print(f"ranks {dist.world_size()} device {args.device} params {num_params / 1e6:.1f}M "
              f"threads {torch.get_num_threads()}")
        print(f"in-memory refresh: {best_r:.3f} s (first, with allocation: {refresh[0]:.3f} s); "
              f"{num_params * 4 / best_r / 1e9:.2f} GB/s of fp32 weights gathered")
        print(f"file round trip:   {best_f:.3f} s; ratio {best_f / best_r:.1f}x")
        print(f"memory: the copy holds {copy.num_bytes / 2**30:.2f} GiB per rank "
              f"({copy.num_bytes / num_params:.0f} B/param); the largest transient is one gathered parameter "
              f"({max(p.numel() for p in copy.model.parameters()) * 4 / 2**20:.0f} MiB); rank 0 RSS {_rss() / 2**30:.2f} GiB")


def _spawned(rank: int, world_size: int, port: int, args) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    tdist.init_process_group("gloo", rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=600))
    try:
        bench(args)
    finally:
        tdist.destroy_process_group()


def main() -> None:
    args = parse_args()
    if "RANK" in os.environ:  # under torchrun
        from simplerl_engine import dist

        if args.device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init(torch.device("cuda" if args.device == "cuda" else "cpu"))
        bench(args)
        tdist.destroy_process_group()
        return
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_spawned, args=(args.nproc, port, args), nprocs=args.nproc, join=True)


if __name__ == "__main__":
    main()
