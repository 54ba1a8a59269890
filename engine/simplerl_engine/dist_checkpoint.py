"""Sharded optimiser state for N > 1 ranks, through torch.distributed.checkpoint (DCP).

`save` with `optimizer: true` writes, beside the Hugging Face weights:
  optimizer.dcp/    AdamW moments as each rank holds them (DCP files + metadata; every rank writes its
                    own shards, so the folder must be on a file system every node sees)
  optimizer.pt      a small map naming that folder: {format: "dcp", dir, world_size, num_steps, args,
                    rng: [torch RNG state of each rank]}
so that the controller's `resume_optimizer: <folder>/optimizer.pt` works unchanged. Resuming with the
same N restores the moments, the schedule position and every rank's RNG exactly. A different N loads
the weights only (the Hugging Face folder), with a fresh optimiser."""

import os
from dataclasses import asdict

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

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
    """Collective: restores the optimiser state written by `save_sharded_optimizer` (same N only)."""
    if not os.path.isfile(optimizer_file):
        raise BadRequest(f"load: args.resume_optimizer {optimizer_file!r} does not exist")
    meta = torch.load(optimizer_file, map_location="cpu", weights_only=True)
    if meta.get("format") != DCP_FORMAT:
        raise BadRequest(f"load: {optimizer_file} holds a single-process optimiser state; with "
                         f"{dist.world_size()} ranks resume from the weights only (drop resume_optimizer)")
    if meta["world_size"] != dist.world_size():
        raise BadRequest(f"load: {optimizer_file} was written by {meta['world_size']} ranks, this engine has "
                         f"{dist.world_size()}; resume from the weights only (drop resume_optimizer)")
    state = get_optimizer_state_dict(role.model, role.optim.opt)
    dcp.load({"optim": state}, checkpoint_id=os.path.join(os.path.dirname(optimizer_file), meta["dir"]))
    set_optimizer_state_dict(role.model, role.optim.opt, state)
    role.optim.num_steps = int(meta["num_steps"])
    rng = meta["rng"][dist.rank()]
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])
