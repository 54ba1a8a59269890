"""Multi-rank harness for the tests: N ranks in `torch.multiprocessing` children (gloo on CPU; NCCL on
CUDA, one GPU per rank, as dist.init chooses), each running the same script of requests through
`Worker.call` (what server.dispatch does after the broadcast); rank 0's results come back to the test,
on the CPU. One thread per rank, short collective timeouts."""

import datetime
import os
import socket
import sys
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLLECTIVE_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def full_weights(worker, role: str) -> dict[str, torch.Tensor]:
    from simplerl_engine.fsdp import full_state_dict_on_cpu, is_sharded

    model = worker.roles[role].model
    if is_sharded(model):
        return full_state_dict_on_cpu(model)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def run_script(worker, script: list) -> list:
    """script: (op, args, arrays) triples; ("weights", role) records the role's full weights.
    → per entry: ("ok", result, arrays) | ("error", type, message) | ("weights", state dict)."""
    out = []
    for entry in script:
        if entry[0] == "weights":
            out.append(("weights", full_weights(worker, entry[1])))
            continue
        op, args, arrays = entry
        try:
            result, arrs = worker.call(op, dict(args), dict(arrays))
            out.append(("ok", result, arrs))
        except Exception as e:
            out.append(("error", getattr(e, "type", type(e).__name__), str(e)))
    return out


def to_cpu(x):
    """Results as the controller would get them: tensors on the CPU (nested lists, tuples, dicts)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    if isinstance(x, (list, tuple)):
        return type(x)(to_cpu(v) for v in x)
    if isinstance(x, dict):
        return {k: to_cpu(v) for k, v in x.items()}
    return x


def _rank_main(rank: int, world_size: int, port: int, out_dir: str, script: list, device_type: str = "cpu") -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    import torch.distributed as tdist

    from simplerl_engine import dist
    from simplerl_engine.dist_worker import DistWorker

    device = torch.device("cpu")
    if device_type == "cuda":  # as __main__ does under torchrun: one GPU per rank
        device = torch.device("cuda", rank)
        torch.cuda.set_device(device)
    tdist.init_process_group(dist.backend_for(device), rank=rank, world_size=world_size,
                             timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S))
    try:
        results = to_cpu(run_script(DistWorker(device, 1), script))
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    except Exception:
        with open(os.path.join(out_dir, f"rank{rank}.err"), "w") as f:
            f.write(traceback.format_exc())
        raise
    finally:
        tdist.destroy_process_group()
    # skip the interpreter's teardown, where torch's collective threads occasionally abort (launch.finish)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_ranks(script: list, out_dir: str, world_size: int = 2, device: str = "cpu") -> list:
    """Runs `script` on `world_size` ranks (gloo on CPU, NCCL on CUDA); → rank 0's results (every rank
    must finish)."""
    import torch.multiprocessing as mp

    os.makedirs(out_dir, exist_ok=True)
    mp.spawn(_rank_main, args=(world_size, free_port(), str(out_dir), script, device), nprocs=world_size, join=True)
    return torch.load(os.path.join(out_dir, "rank0.pt"), weights_only=False)


def run_single(script: list, device: str = "cpu") -> list:
    """The same script in this process, through the N = 1 Worker."""
    from simplerl_engine.worker import Worker

    return to_cpu(run_script(Worker(torch.device(device), 1), script))
