"""FSDP2 for N > 1 ranks: a role's model sharded per decoder layer and at the root (embeddings, final
norm, heads: tied lm_head and embed_tokens stay one parameter), gradients summed over ranks (the loss
is already divided by the global count, `loss_norm`), and the full weights gathered back in memory for
generation and for the Hugging Face checkpoint. At N = 1 none of this runs."""

import time
import warnings

import torch
from torch import nn
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor

from . import dist
from .model.transformer import CausalLM, ValueModel


# The critic's forward returns values[..., 0] (a view); nothing modifies it in place, which is what the warning guards.
warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module .* returned a view tensor")


def _mesh(device: torch.device):
    return init_device_mesh(device.type, (dist.world_size(),))


def shard_model(model: nn.Module, device: torch.device, *, bf16_compute: bool) -> nn.Module:
    """Wraps `model` in place: fully_shard on each decoder layer, then on the root. bf16_compute (CUDA,
    fp32 master weights): parameters are gathered in bf16 and gradients reduced in fp32."""
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16_compute else MixedPrecisionPolicy()
    mesh = _mesh(device)
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh, mp_policy=mp)
    fully_shard(model, mesh=mesh, mp_policy=mp)
    for m in model.modules():
        if isinstance(m, FSDPModule):
            # sum, not mean: each rank's loss is its share of the global objective (losses.py aggregate);
            # forced SUM also keeps gloo working (it has no PREMUL_SUM)
            m.set_gradient_divide_factor(1.0)
            m.set_force_sum_reduction_for_comms(True)
    return model


def is_sharded(model: nn.Module) -> bool:
    return isinstance(model, FSDPModule)


def full_tensors(model: nn.Module):
    """(name, full tensor) of every parameter, gathered from the shards (a collective: all ranks call
    it, in the same order). Tied parameters come once, as named_parameters gives them."""
    for name, p in model.named_parameters():
        yield name, (p.full_tensor() if isinstance(p, DTensor) else p).detach()


class GenerationCopy:
    """A plain (unsharded) model with the role's full weights in the compute dtype, for generation on
    every rank. Refreshed from the shards in memory (one all-gather per parameter, no files) when the
    role's weights changed since the last refresh."""

    def __init__(self, sharded: nn.Module, dtype: torch.dtype, device: torch.device, lora_scaling: float | None = None):
        cfg = sharded.config
        with torch.device("meta"):
            plain = ValueModel(cfg) if isinstance(sharded, ValueModel) else CausalLM(cfg)
        plain.to_empty(device=device)
        plain.to(dtype)
        if isinstance(plain, CausalLM):
            plain.tie_weights()
        self.model = plain.eval().requires_grad_(False)
        self.lora_scaling = lora_scaling  # LoRA role: its adapters are merged into the copy (None: skipped)
        self.version = None
        self.last_refresh_s = 0.0

    @property
    def num_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    @torch.no_grad()
    def refresh(self, sharded: nn.Module, version) -> bool:
        """Copies the full weights in when `version` differs from the last refresh's; True if it did."""
        if version == self.version:
            return False
        t0 = time.perf_counter()
        params = dict(self.model.named_parameters())
        adapters = {}
        for name, full in full_tensors(sharded):
            if ".lora_" in name:
                adapters[name] = full
            else:
                params[name].copy_(full)
        if self.lora_scaling is not None:
            for name, a in adapters.items():
                if name.endswith(".lora_A.weight"):
                    prefix = name.removesuffix(".lora_A.weight")
                    w = params[f"{prefix}.weight"]
                    w.add_((adapters[f"{prefix}.lora_B.weight"] @ a * self.lora_scaling).to(w.dtype))
        self.version = version
        self.last_refresh_s = time.perf_counter() - t0
        return True


def full_state_dict_on_cpu(model: nn.Module, keep: bool = True) -> dict[str, torch.Tensor]:
    """The full state dict on the CPU (a collective: every rank gathers each parameter in turn); ranks
    that pass keep=False drop each tensor at once and get {} (so a node's host memory holds one copy,
    not one per rank). Tied weights: both keys, one tensor."""
    out = {}
    for name, t in full_tensors(model):
        if keep:
            out[name] = t.to("cpu", copy=True)
    if keep and isinstance(model, CausalLM) and model.config.tie_word_embeddings:
        out["lm_head.weight"] = out["model.embed_tokens.weight"]
    return out


def plain_model_from(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """An unsharded CPU model of `model`'s architecture holding `state` (for save_pretrained)."""
    with torch.device("meta"):
        plain = ValueModel(model.config) if isinstance(model, ValueModel) else CausalLM(model.config)
    plain.load_state_dict(state, assign=True)
    if isinstance(plain, CausalLM):
        plain.tie_weights()
    return plain
