"""AdamW with warm-up + cosine/constant learning-rate schedule, gradient clipping, and the state saved
beside a checkpoint (`optimizer.pt`) so that a resumed run continues the same schedule."""

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .errors import BadRequest

SCHEDULES = ("constant", "cosine")


@dataclass
class OptimArgs:
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0  # max global grad norm; null = no clipping
    schedule: str = "constant"
    warmup_steps: int = 0
    total_steps: int = 0  # cosine: the step at which lr reaches min_lr_ratio * lr
    min_lr_ratio: float = 0.0

    @classmethod
    def parse(cls, d: dict) -> "OptimArgs":
        if not isinstance(d, dict) or "lr" not in d:
            raise BadRequest("optim: expected a map with at least 'lr'")
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise BadRequest(f"optim.{unknown[0]}: unknown; valid: {', '.join(cls.__dataclass_fields__)}")
        a = cls(**{**d, "betas": tuple(d.get("betas", (0.9, 0.999)))})
        if a.schedule not in SCHEDULES:
            raise BadRequest(f"optim.schedule: {a.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if a.schedule == "cosine" and a.total_steps <= a.warmup_steps:
            raise BadRequest(
                f"optim.total_steps: cosine needs total_steps > warmup_steps, got {a.total_steps} <= {a.warmup_steps}"
            )
        if not a.lr > 0 or a.warmup_steps < 0 or not 0 <= a.min_lr_ratio <= 1:
            raise BadRequest(f"optim: need lr > 0, warmup_steps >= 0, 0 <= min_lr_ratio <= 1; got {d}")
        return a


def lr_at(a: OptimArgs, step: int) -> float:
    """Learning rate of optimiser step `step` (0-based). Warm-up is linear and reaches lr at step
    warmup_steps - 1 (the first step is not wasted at lr 0, unlike HF's schedulers); cosine then
    decays to min_lr_ratio * lr at total_steps and stays there."""
    if step < a.warmup_steps:
        return a.lr * (step + 1) / a.warmup_steps
    if a.schedule == "constant":
        return a.lr
    progress = min(1.0, (step - a.warmup_steps) / (a.total_steps - a.warmup_steps))
    return a.lr * (a.min_lr_ratio + (1 - a.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def _is_plain_cuda(params: list) -> bool:
    """Every parameter an ordinary (not DTensor: FSDP2 keeps the foreach path) tensor on a GPU."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # torch built without distributed
        DTensor = ()
    return bool(params) and all(p.is_cuda and not isinstance(p, DTensor) for p in params)


class Optimizer:
    """AdamW over a model's trainable parameters; no weight decay on biases and norm weights (ndim < 2).

    `fused` (default: on when every parameter is a plain CUDA tensor): torch's fused AdamW, a few kernel
    launches for all parameters instead of a dozen foreach passes, and no host sync before the update:
    the finite-norm check runs on the device (`found_inf`, as GradScaler uses it) and the norm is read
    back once the update is queued. Elsewhere the foreach/for-loop AdamW with the check on the host."""

    def __init__(self, model: nn.Module, args: OptimArgs, fused: bool | None = None):
        self.args = args
        self.params = [p for p in model.parameters() if p.requires_grad]
        decay = [p for p in self.params if p.ndim >= 2]
        no_decay = [p for p in self.params if p.ndim < 2]
        groups = [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        self.is_fused = _is_plain_cuda(self.params) if fused is None else fused
        extra = {"fused": True} if self.is_fused else {}
        self.opt = torch.optim.AdamW(groups, lr=args.lr, betas=args.betas, eps=args.eps, **extra)
        self.num_steps = 0  # optimiser steps taken (the schedule's position)

    @property
    def lr(self) -> float:
        return lr_at(self.args, self.num_steps)

    def grad_norm(self) -> float:
        grads = [p.grad for p in self.params if p.grad is not None]
        return float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0

    def step(self) -> tuple[float, float]:
        """Clips, applies one AdamW step at the scheduled lr, zeroes grads. Returns (grad_norm, lr).
        A non-finite grad norm skips the update (grads dropped) rather than poisoning the weights."""
        lr = self.lr
        if self.is_fused:
            return self._fused_step(lr)
        if self.args.grad_clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.args.grad_clip))
        else:
            norm = self.grad_norm()
        if math.isfinite(norm):
            for g in self.opt.param_groups:
                g["lr"] = lr
            self.opt.step()
            self.num_steps += 1
        self.opt.zero_grad(set_to_none=True)
        return norm, lr

    def _fused_step(self, lr: float) -> tuple[float, float]:
        """`step` without a host sync before the update: a non-finite norm makes the fused kernel skip
        every parameter (and undo its step count), as the host check does on the other path."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if not grads:  # nothing to update; the schedule moves on as on the other path
            self.num_steps += 1
            return 0.0, lr
        if self.args.grad_clip is not None:
            norm_t = torch.nn.utils.clip_grad_norm_(self.params, self.args.grad_clip)
        else:
            norm_t = torch.nn.utils.get_total_norm(grads)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.found_inf = (~torch.isfinite(norm_t)).to(torch.float32)  # read by the fused kernel (Adam.step)
        try:
            self.opt.step()
        finally:
            del self.opt.found_inf
        self.opt.zero_grad(set_to_none=True)
        norm = float(norm_t)  # the step's one sync, with the update already queued
        if math.isfinite(norm):
            self.num_steps += 1
        return norm, lr

    def state_dict(self) -> dict:
        return {"optimizer": self.opt.state_dict(), "num_steps": self.num_steps, "args": asdict(self.args)}

    def load_state_dict(self, state: dict) -> None:
        self.opt.load_state_dict(state["optimizer"])
        self.num_steps = int(state["num_steps"])
