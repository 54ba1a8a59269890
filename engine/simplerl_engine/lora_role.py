"""LoRA in the ops: `load` args (`lora`, `base_of`), the reference as a view of the policy's module with
the adapters off, merged weights for `generate`, and `save` as a PEFT adapter or a merged HF folder."""

import os
from contextlib import nullcontext

import torch
from torch import nn
from torch.distributed.tensor import DTensor

from .adapters import adapter_names, check_same_args, load_adapter, write_adapter
from .errors import BadRequest
from .fsdp import full_state_dict_on_cpu, plain_model_from
from .model.lora import DEFAULT_TARGETS, LoraArgs, add_lora, merge_named, merged
from .roles import Role, Roles
from .weights import save_pretrained

LORA_FIELDS = ("rank", "alpha", "dropout", "target_modules", "adapter_path")
# bench/lora_step.py --merge-bench (bench/RESULTS.md ## LoRA): a merged copy per layer is as fast as merging in
# place and back (faster on SmolLM2-135M), and exact (in place leaves the base off by rounding)
GENERATE_MERGE_MODE = "copy"


def parse_lora(d: dict) -> tuple[LoraArgs, str | None]:
    """`load` args.lora → (LoraArgs, adapter folder to start from or None)."""
    unknown = sorted(set(d) - set(LORA_FIELDS))
    if unknown:
        raise BadRequest(f"load: args.lora.{unknown[0]} is unknown; valid: {', '.join(LORA_FIELDS)}")
    for k in ("rank", "alpha"):
        if not isinstance(d.get(k), (int, float)) or isinstance(d.get(k), bool):
            raise BadRequest(f"load: args.lora.{k} must be a number, got {d.get(k)!r}")
    targets = d.get("target_modules") or list(DEFAULT_TARGETS)
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise BadRequest(f"load: args.lora.target_modules must be a list of module names, got {targets!r}")
    path = d.get("adapter_path")
    if path is not None and not (isinstance(path, str) and os.path.isdir(path)):
        raise BadRequest(f"load: args.lora.adapter_path {path!r} is not a directory")
    if not isinstance(d["rank"], int):
        raise BadRequest(f"load: args.lora.rank must be an integer, got {d['rank']!r}")
    args = LoraArgs(rank=d["rank"], alpha=float(d["alpha"]), dropout=float(d.get("dropout") or 0.0),
                    target_modules=tuple(sorted(set(targets))))
    return args.check(), path


def attach_lora(model: nn.Module, args: LoraArgs, adapter_path: str | None, seed: int, dtype: torch.dtype) -> None:
    add_lora(model, args, seed, dtype)
    if adapter_path is not None:
        check_same_args(adapter_path, args)
        load_adapter(model, adapter_path)


def base_view(roles: Roles, name: str, of: str) -> Role:
    """Role `name` (the reference) as the base of role `of`: the same module, adapters disabled."""
    owner = roles.get_loaded(of)
    if owner.lora is None:
        raise BadRequest(f"load: args.base_of {of!r}: that role has no LoRA adapters (load it with args.lora)")
    return Role(name, owner.model, owner.config, owner.device, owner.dtype, owner.is_autocast, None,
                owner.grad_checkpointing, base_path=owner.base_path, base_of=of)


def generation_weights(role: Role):
    """Context for `generate`: the adapters merged into the weights (nothing for a plain role or a base view)."""
    if role.lora is None or role.base_of is not None:
        return nullcontext()
    return merged(role.model, GENERATE_MERGE_MODE)


def adapter_tensors(model: nn.Module, keep: bool = True) -> dict:
    """Full adapter tensors by name (a collective under FSDP: every rank calls it; keep=False drops them)."""
    names = set(adapter_names(model))
    out = {}
    for n, p in model.named_parameters():
        if n in names:
            t = (p.full_tensor() if isinstance(p, DTensor) else p).detach()
            if keep:
                out[n] = t.to("cpu", copy=True)
    return out


def write_lora_role(role: Role, folder: str, *, is_merged: bool, keep: bool = True) -> None:
    """Writes `role` into the existing `folder`: the PEFT adapter, or (is_merged) a full Hugging Face
    folder with the adapters merged. A collective under FSDP; only ranks with keep=True write."""
    if is_merged:
        state = full_state_dict_on_cpu(role.model, keep=keep)
        if keep:
            save_pretrained(plain_model_from(role.model, merge_named(state, role.lora.scaling)), folder)
        return
    tensors = adapter_tensors(role.model, keep=keep)
    if keep:
        write_adapter(tensors, role.lora, folder, base_path=role.base_path, is_critic=role.name == "critic")
