"""World size / rank helpers. One process is N = 1; under torchrun (issue 10) rank 0 serves the socket
and broadcasts each request, and every rank runs the same `dispatch`. At N = 1 all of this is a no-op."""

import datetime
import os

import torch
import torch.distributed as tdist


def world_size() -> int:
    return tdist.get_world_size() if tdist.is_initialized() else int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return tdist.get_rank() if tdist.is_initialized() else int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def backend_for(device: torch.device) -> str:
    """NCCL for GPU ranks (one GPU each), gloo on CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def init(device: torch.device) -> None:
    """Joins the process group torchrun describes in the environment (nothing to do at N = 1)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not tdist.is_initialized():
        # a peer that hangs ends the run after this long (launch.py); generation shares may differ in time
        timeout = datetime.timedelta(seconds=float(os.environ.get("SIMPLERL_DIST_TIMEOUT_S", "1800")))
        tdist.init_process_group(backend_for(device), timeout=timeout)


def broadcast_request(request):
    """Rank 0 passes its decoded request, other ranks pass None and get rank 0's copy."""
    if world_size() == 1:
        return request
    box = [request]
    try:
        tdist.broadcast_object_list(box, src=0)  # arrays travel pickled; fine for control, revisit for big batches
    except Exception as e:
        if request is None:  # ranks > 0 have nobody to answer
            raise
        from .launch import collective_failure  # names the peer that stopped; the process exits after the answer

        request.error = collective_failure(f"{request.op}: broadcast", e)
    return box[0]


def _all_reduce(t: torch.Tensor, op) -> torch.Tensor:
    if world_size() == 1:
        return t
    # NCCL reduces CUDA tensors only; gloo CPU ones
    dev = torch.device("cuda", torch.cuda.current_device()) if tdist.get_backend() == "nccl" else torch.device("cpu")
    buf = t.to(dev)
    tdist.all_reduce(buf, op=op)
    t.copy_(buf)
    return t


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sums a tensor over ranks in place (loss normalisers, token counts); identity at N = 1."""
    return _all_reduce(t, tdist.ReduceOp.SUM)


def all_reduce_max(t: torch.Tensor) -> torch.Tensor:
    """Max over ranks in place (e.g. the number of micro-batches every rank must run); identity at N = 1."""
    return _all_reduce(t, tdist.ReduceOp.MAX)
