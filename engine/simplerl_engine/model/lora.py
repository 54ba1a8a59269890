"""LoRA (Hu et al. 2021, arXiv:2106.09685): y = x Wᵀ + b + (α/r) · B A dropout(x) on chosen linear
projections, with W frozen, A [r, in] kaiming-uniform (a = √5, as PEFT) and B [out, r] zero (so a new
adapter changes nothing). Laid out as PEFT lays it out, so that PEFT reads our adapters and we read its:
`model.layers.0.self_attn.q_proj.lora_A.weight` in the model, `base_model.model.` + that in
`adapter_model.safetensors`. A LoraLinear keeps the base Parameters under their own names
(`q_proj.weight`), so the base's state_dict keys, FSDP sharding and full-weight saving are unchanged."""

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LORA_ERROR = "lora"  # prefix of every error message raised here
MERGE_MODES = ("copy", "inplace")


class LoraError(ValueError):
    pass


@dataclass(frozen=True)
class LoraArgs:
    rank: int
    alpha: float
    dropout: float = 0.0
    target_modules: tuple[str, ...] = DEFAULT_TARGETS

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank

    def check(self) -> "LoraArgs":
        if self.rank < 1 or not self.alpha > 0 or not 0 <= self.dropout < 1 or not self.target_modules:
            raise LoraError(f"{LORA_ERROR}: need rank >= 1, alpha > 0, 0 <= dropout < 1 and at least one target "
                            f"module; got rank {self.rank}, alpha {self.alpha}, dropout {self.dropout}, "
                            f"target_modules {list(self.target_modules)}")
        return self


class LoraLinear(nn.Linear):
    """An nn.Linear whose weight and bias are the base layer's own Parameters, plus the adapter."""

    def __init__(self, base: nn.Linear, args: LoraArgs, gen: torch.Generator, dtype: torch.dtype | None = None):
        nn.Module.__init__(self)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.weight, self.bias = base.weight, base.bias
        kw = {"device": base.weight.device, "dtype": dtype or base.weight.dtype}
        self.lora_A = nn.Linear(self.in_features, args.rank, bias=False, **kw)
        self.lora_B = nn.Linear(args.rank, self.out_features, bias=False, **kw)
        self.lora_dropout = nn.Dropout(args.dropout) if args.dropout > 0 else nn.Identity()
        self.scaling = args.scaling
        self.is_disabled = False  # the reference role: the base alone
        self.merged_weight: Tensor | None = None  # W + scaling·BA while generating (merge mode "copy")
        with torch.no_grad():  # drawn on the CPU from one generator: a seed gives the same A everywhere
            a = torch.empty(args.rank, self.in_features)
            nn.init.kaiming_uniform_(a, a=math.sqrt(5), generator=gen)
            self.lora_A.weight.copy_(a)
            self.lora_B.weight.zero_()

    def forward(self, x: Tensor) -> Tensor:  # x: [..., in]
        if self.merged_weight is not None:
            return F.linear(x, self.merged_weight, self.bias)
        y = F.linear(x, self.weight, self.bias)
        if self.is_disabled:
            return y
        return y + self.lora_B(self.lora_A(self.lora_dropout(x))) * self.scaling

    def delta(self) -> Tensor:
        """scaling · B A, [out, in], in the weight's dtype."""
        return (self.lora_B.weight @ self.lora_A.weight * self.scaling).to(self.weight.dtype)


def add_lora(model: nn.Module, args: LoraArgs, seed: int, dtype: torch.dtype | None = None) -> int:
    """Wraps every target projection of the decoder layers in place, freezes the base and leaves the
    adapters (in `dtype`, default the base's) and a critic's value head trainable. Returns the number
    of wrapped layers."""
    args.check()
    gen = torch.Generator().manual_seed(seed)
    found = set()
    model.requires_grad_(False)
    for layer in model.model.layers:
        for parent in layer.modules():
            for name, child in list(parent.named_children()):
                if name in args.target_modules and type(child) is nn.Linear:
                    setattr(parent, name, LoraLinear(child, args, gen, dtype))
                    found.add(name)
    missing = sorted(set(args.target_modules) - found)
    if missing:
        raise LoraError(f"{LORA_ERROR}: target_modules {missing} match no linear layer of the decoder; "
                        f"valid: {', '.join(DEFAULT_TARGETS)}")
    for m in lora_layers(model):
        m.lora_A.requires_grad_(True)
        m.lora_B.requires_grad_(True)
    if hasattr(model, "score"):  # the critic's value head trains in full (PEFT modules_to_save), in `dtype`
        model.score.to(dtype or model.score.weight.dtype).requires_grad_(True)
    return sum(1 for _ in lora_layers(model))


def lora_layers(model: nn.Module):
    return (m for m in model.modules() if isinstance(m, LoraLinear))


def has_lora(model: nn.Module) -> bool:
    return next(lora_layers(model), None) is not None


@contextmanager
def adapters_disabled(model: nn.Module):
    """The base model alone (the reference role shares the policy's module this way)."""
    layers = list(lora_layers(model))
    for m in layers:
        m.is_disabled = True
    try:
        yield
    finally:
        for m in layers:
            m.is_disabled = False


@contextmanager
@torch.no_grad()
def merged(model: nn.Module, mode: str = "copy"):
    """Weights with the adapters merged, for generation. `copy`: a merged weight per layer beside the
    base (freed on exit; the base is untouched, so training stays bit-exact). `inplace`: W += ΔW, then
    W -= ΔW on exit, which leaves W off by rounding (fp32: ~1 ulp per merge), so it drifts over steps."""
    if mode not in MERGE_MODES:
        raise LoraError(f"{LORA_ERROR}: merge mode {mode!r} is not one of {', '.join(MERGE_MODES)}")
    layers = [m for m in lora_layers(model) if not m.is_disabled]
    deltas = []
    for m in layers:
        if mode == "copy":
            m.merged_weight = m.weight + m.delta()
        else:
            deltas.append(m.delta())
            m.weight.add_(deltas[-1])
            m.merged_weight = m.weight.detach()  # a plain view: assigning the Parameter would register it
    try:
        yield
    finally:
        for i, m in enumerate(layers):
            m.merged_weight = None
            if mode == "inplace":
                m.weight.sub_(deltas[i])


def merge_named(named: dict[str, Tensor], scaling: float) -> dict[str, Tensor]:
    """Full tensors by model name (adapters included) → the plain model's: each `X.weight` with an
    `X.lora_A.weight` / `X.lora_B.weight` pair becomes W + scaling·BA, and the adapter tensors go."""
    out = {k: v for k, v in named.items() if ".lora_" not in k}
    for k, a in named.items():
        if k.endswith(".lora_A.weight"):
            prefix = k.removesuffix(".lora_A.weight")
            w = out[f"{prefix}.weight"]
            out[f"{prefix}.weight"] = w + (named[f"{prefix}.lora_B.weight"] @ a * scaling).to(w.dtype)
    return out
