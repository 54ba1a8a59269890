"""The loaded models, one per role, with their dtype, device, autocast and optimiser."""

from contextlib import ExitStack, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from .errors import BadRequest, NotLoaded
from .model.lora import LoraArgs, adapters_disabled
from .optim import Optimizer

ROLES = ("policy", "ref", "critic")
TRAINABLE = ("policy", "critic")
DTYPE_ARGS = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@dataclass
class Role:
    name: str
    model: nn.Module
    config: dict  # Hugging Face config map, as `load` returns it
    device: torch.device
    dtype: torch.dtype  # parameter dtype
    is_autocast: bool  # bf16 autocast around compute (CUDA with fp32 master weights)
    optim: Optimizer | None = None
    grad_checkpointing: bool = False
    lora: LoraArgs | None = None  # the model carries LoRA adapters (model/lora.py)
    base_path: str | None = None  # the folder the base weights came from (adapter_config.json names it)
    base_of: str | None = None  # a reference sharing this role's module, adapters disabled (`load` base_of)

    @property
    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def num_trainable_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad) if self.optim else 0

    def autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.is_autocast else nullcontext()

    def compute(self):
        """Context of every model call: autocast, and the adapters off for a role that is another
        role's base (the LoRA reference)."""
        stack = ExitStack()
        stack.enter_context(self.autocast())
        if self.base_of is not None:
            stack.enter_context(adapters_disabled(self.model))
        return stack


def check_role(name, trainable: bool = False) -> str:
    valid = TRAINABLE if trainable else ROLES
    if name not in valid:
        raise BadRequest(f"role: {name!r} is not one of {', '.join(valid)}")
    return name


def resolve_dtype(arg: str, device: torch.device, trains: bool) -> tuple[torch.dtype, bool]:
    """(parameter dtype, autocast). `auto`: fp32 on CPU; on CUDA a role that trains keeps fp32 master
    weights under bf16 autocast (AdamW updates at lr ~1e-6 vanish in bf16), a frozen one is bf16."""
    if arg == "auto":
        if device.type != "cuda":
            return torch.float32, False
        return (torch.float32, True) if trains else (torch.bfloat16, False)
    if arg not in DTYPE_ARGS:
        raise BadRequest(f"dtype: {arg!r} is not one of auto, {', '.join(DTYPE_ARGS)}")
    dtype = DTYPE_ARGS[arg]
    return dtype, device.type == "cuda" and dtype == torch.float32


class Roles(dict):
    def get_loaded(self, name) -> Role:
        check_role(name)
        if name not in self:
            raise NotLoaded(f"role {name!r} is not loaded; loaded: {', '.join(self) or 'none'} (send `load` first)")
        return self[name]

    def trainable(self, name) -> Role:
        r = self.get_loaded(check_role(name, trainable=True))
        if r.optim is None:
            raise BadRequest(f"role {name!r} was loaded without `optim`, so it cannot train")
        return r


def set_grad_checkpointing(model: nn.Module, on: bool) -> None:
    """Recompute decoder-layer activations in backward (memory for ~30% more compute)."""
    backbone = getattr(model, "model", None)
    if not hasattr(backbone, "gradient_checkpointing"):
        if on:
            raise BadRequest(f"grad_checkpointing: {type(model).__name__} does not support activation checkpointing")
        return
    backbone.gradient_checkpointing = on
