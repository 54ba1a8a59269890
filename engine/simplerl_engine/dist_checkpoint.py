"""Sharded optimiser state for N > 1 ranks, through torch.distributed.checkpoint (DCP).

`save` with `optimizer: true` writes, beside the Hugging Face weights:
  optimizer.dcp/    AdamW moments as each rank holds them (DCP files + metadata; every rank writes its
                    own shards, so the folder must be on a file system every node sees)
  optimizer.pt      a small map naming that folder: {format: "dcp", dir, world_size, num_steps, args,
                    rng: [torch RNG state of each rank]}
so that the controller's `resume_optimizer: <folder>/optimizer.pt` works unchanged. Resuming with the
same N restores the moments, the schedule position and every rank's RNG exactly; with another N (1
included) the moments are resharded and the schedule continues (the RNG state is per rank, so it is
not restored: sampling does not use it). A single-process `optimizer.pt` resumes under N > 1 too."""

import os
import warnings
from dataclasses import asdict

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict, set_optimizer_state_dict

from . import dist
from .errors import BadRequest
from .roles import Role
from .shard import all_gather_objects

OPTIMIZER_FILE = "optimizer.pt"
OPTIMIZER_DCP_DIR = "optimizer.dcp"
DCP_FORMAT = "dcp"


def _rng_state() -> dict:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def save_sharded_optimizer(role: Role, folder: str) -> None:
    """Collective: every rank writes its optimiser shards into folder/optimizer.dcp; rank 0 writes
    folder/optimizer.pt."""
    state = get_optimizer_state_dict(role.model, role.optim.opt)
    dcp.save({"optim": state}, checkpoint_id=os.path.join(folder, OPTIMIZER_DCP_DIR))
    rngs = all_gather_objects(_rng_state())
    if dist.is_main():
        torch.save({"format": DCP_FORMAT, "dir": OPTIMIZER_DCP_DIR, "world_size": dist.world_size(),
                    "num_steps": role.optim.num_steps, "args": asdict(role.optim.args), "rng": rngs},
                   os.path.join(folder, OPTIMIZER_FILE))


def load_sharded_optimizer(role: Role, optimizer_file: str) -> None:
    """Restores the optimiser state of `optimizer_file` into `role` (collective under N > 1, also fine
    in one process): a DCP state written by any number of ranks is resharded to this one; a
    single-process `optimizer.pt` is sharded from its full tensors. The schedule position always
    comes back; the RNG state only with the same N (each rank gets its own)."""
    if not os.path.isfile(optimizer_file):
        raise BadRequest(f"load: args.resume_optimizer {optimizer_file!r} does not exist")
    meta = torch.load(optimizer_file, map_location="cpu", weights_only=True)
    if meta.get("format") == DCP_FORMAT:
        state = get_optimizer_state_dict(role.model, role.optim.opt)
        with warnings.catch_warnings():  # one process (N = 1) reading a DCP folder is intended
            warnings.filterwarnings("ignore", message="torch.distributed is disabled")
            dcp.load({"optim": state}, checkpoint_id=os.path.join(os.path.dirname(optimizer_file), meta["dir"]),
                     no_dist=not torch.distributed.is_initialized())
        set_optimizer_state_dict(role.model, role.optim.opt, state)
        rngs = meta["rng"] if meta["world_size"] == dist.world_size() else None
    else:
        set_optimizer_state_dict(role.model, role.optim.opt, _by_name(role, meta["optimizer"]),
                                 options=StateDictOptions(full_state_dict=True))
        rngs = None  # a single process's RNG: no rank of N > 1 continues it
    role.optim.num_steps = int(meta["num_steps"])
    if rngs is not None:
        rng = rngs[dist.rank()]
        torch.set_rng_state(rng["cpu"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state(rng["cuda"])


def _by_name(role: Role, osd: dict) -> dict:
    """A torch.optim state dict (parameters numbered in param-group order) keyed by parameter name, as
    set_optimizer_state_dict takes it. Sharding keeps the parameters' order, so number k is the k-th
    parameter of this optimiser's groups."""
    names = {id(p): n for n, p in role.model.named_parameters()}
    order = [names[id(p)] for g in role.optim.opt.param_groups for p in g["params"]]
    return {"state": {order[k]: v for k, v in osd["state"].items()},
            "param_groups": [{**g, "params": [order[k] for k in g["params"]]} for g in osd["param_groups"]]}
