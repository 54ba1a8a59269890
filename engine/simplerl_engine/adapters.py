"""LoRA adapters on disk in PEFT's format, so that `PeftModel.from_pretrained(base, folder)` loads ours
and we load PEFT's: `adapter_config.json` + `adapter_model.safetensors` with keys
`base_model.model.<our parameter name>` (e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`;
PEFT strips its adapter name `default` when saving). A critic's value head is saved in full beside the
adapters (`base_model.model.score.weight`, PEFT's `modules_to_save`)."""

import json
import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from .model.lora import LoraArgs, LoraError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."
LORA_ERROR = "lora"


def is_adapter_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, ADAPTER_CONFIG))


def adapter_names(model: nn.Module) -> list[str]:
    """Our names of the tensors an adapter file holds: the LoRA matrices and a critic's value head."""
    return [n for n, _ in model.named_parameters() if ".lora_" in n or n == "score.weight"]


def peft_config(args: LoraArgs, base_path: str | None, is_critic: bool) -> dict:
    return {
        "peft_type": "LORA",
        "task_type": "SEQ_CLS" if is_critic else "CAUSAL_LM",
        "r": args.rank,
        "lora_alpha": args.alpha,
        "lora_dropout": args.dropout,
        "target_modules": sorted(args.target_modules),
        "bias": "none",
        "fan_in_fan_out": False,
        "use_rslora": False,
        "init_lora_weights": True,
        "modules_to_save": ["score"] if is_critic else None,
        "base_model_name_or_path": base_path,
        "inference_mode": True,
    }


def write_adapter(tensors: dict[str, Tensor], args: LoraArgs, folder: str, *, base_path: str | None, is_critic: bool) -> None:
    """tensors: our names → full tensors (adapter_names). Writes into an existing folder."""
    out = {PEFT_PREFIX + k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    save_file(out, os.path.join(folder, ADAPTER_WEIGHTS), metadata={"format": "pt"})
    with open(os.path.join(folder, ADAPTER_CONFIG), "w") as f:
        json.dump(peft_config(args, base_path, is_critic), f, indent=2, sort_keys=True)


def read_adapter_args(folder: str) -> LoraArgs:
    file = os.path.join(folder, ADAPTER_CONFIG)
    try:
        with open(file) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise LoraError(f"{LORA_ERROR}: cannot read {file}: {e}") from e
    if cfg.get("peft_type") != "LORA" or cfg.get("use_dora") or cfg.get("use_rslora") or cfg.get("bias", "none") != "none":
        raise LoraError(f"{LORA_ERROR}: {file}: only plain LoRA adapters (peft_type LORA, bias none, no DoRA/rsLoRA) load here")
    targets = cfg.get("target_modules")
    if not isinstance(targets, list):
        raise LoraError(f"{LORA_ERROR}: {file}: target_modules must be a list of module names, got {targets!r}")
    return LoraArgs(rank=int(cfg["r"]), alpha=float(cfg["lora_alpha"]), dropout=float(cfg.get("lora_dropout", 0.0)),
                    target_modules=tuple(sorted(targets)))


def check_same_args(folder: str, args: LoraArgs) -> None:
    """The adapter in `folder` must have been made with the LoRA settings this load asks for."""
    saved = read_adapter_args(folder)
    for field, want, got in (("rank", args.rank, saved.rank), ("alpha", args.alpha, saved.alpha),
                             ("target_modules", sorted(args.target_modules), list(saved.target_modules))):
        if want != got:
            raise LoraError(f"{LORA_ERROR}: {os.path.join(folder, ADAPTER_CONFIG)} has {field} {got}, "
                            f"but load args.lora.{field} is {want}")


@torch.no_grad()
def load_adapter(model: nn.Module, folder: str) -> None:
    """Copies the adapter of `folder` into the model's LoRA layers (and value head); every adapter
    tensor of the model must be there with its shape."""
    file = os.path.join(folder, ADAPTER_WEIGHTS)
    if not os.path.isfile(file):
        raise LoraError(f"{LORA_ERROR}: no {ADAPTER_WEIGHTS} in {folder}")
    params = dict(model.named_parameters())
    with safe_open(file, framework="pt", device="cpu") as f:
        keys = set(f.keys())
        for name in adapter_names(model):
            key = PEFT_PREFIX + name
            if key not in keys:
                raise LoraError(f"{LORA_ERROR}: {file} lacks {key}")
            t = f.get_tensor(key)
            if t.shape != params[name].shape:
                raise LoraError(f"{LORA_ERROR}: {file}: {key} has shape {tuple(t.shape)}, expected {tuple(params[name].shape)}")
            params[name].copy_(t)
