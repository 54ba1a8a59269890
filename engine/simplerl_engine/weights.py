"""Build, load and save models in the Hugging Face folder format (config.json + safetensors), so that
transformers and vLLM load our checkpoints without conversion and we load theirs."""

import json
import os
import shutil

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from .model.config import ModelConfig
from .model.transformer import CausalLM, ValueModel

WEIGHTS_ERROR = "weights"  # prefix of every error message raised here
SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
VALUE_HEAD_INITS = ("zeros", "random")
VALUE_HEAD_ALIASES = {"value_head.weight": "score.weight"}  # OpenRLHF critics name the head value_head
DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}
MAX_SHARD_BYTES = 5 << 30  # transformers' default shard size


class WeightsError(ValueError):
    pass


def _new_model(cfg: ModelConfig, value_head: bool) -> nn.Module:
    return ValueModel(cfg) if value_head else CausalLM(cfg)


@torch.no_grad()
def _init_random(model: nn.Module, cfg: ModelConfig, seed: int) -> None:
    """transformers' init (normal(0, initializer_range) weights, zero biases, unit norms), drawn on the
    CPU from one generator so that a seed gives the same weights on every device and rank."""
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():  # tied weights are visited once
        if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
            value = torch.ones(p.shape)
        elif name.endswith(".bias"):
            value = torch.zeros(p.shape)
        else:
            value = torch.empty(p.shape).normal_(0.0, cfg.initializer_range, generator=gen)
        p.copy_(value.to(p.dtype))


def build_model(cfg: ModelConfig, *, value_head: bool = False, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu", seed: int | None = None) -> nn.Module:
    """A model with random weights when `seed` is given (else torch's default init)."""
    with torch.device(device):
        model = _new_model(cfg, value_head)
    model.to(dtype)
    if seed is not None:
        _init_random(model, cfg, seed)
    return model.eval()


def read_config(path: str) -> ModelConfig:
    file = os.path.join(path, "config.json")
    if not os.path.isfile(file):
        raise WeightsError(f"{WEIGHTS_ERROR}: no config.json in {path}")
    with open(file) as f:
        return ModelConfig.from_hf(json.load(f))


def _weight_files(path: str) -> list[str]:
    index = os.path.join(path, INDEX_FILE)
    if os.path.isfile(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        return [os.path.join(path, s) for s in shards]
    single = os.path.join(path, SINGLE_FILE)
    if os.path.isfile(single):
        return [single]
    raise WeightsError(f"{WEIGHTS_ERROR}: neither {SINGLE_FILE} nor {INDEX_FILE} in {path}")


def load_pretrained(path: str, *, value_head: bool = False, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu", value_head_init: str = "zeros", seed: int = 0) -> nn.Module:
    """Loads a Hugging Face folder. A critic (value_head=True) loaded from a policy folder (no
    `score.weight`) gets a fresh head: zeros (so initial values are 0) or random (normal, `seed`)."""
    if value_head_init not in VALUE_HEAD_INITS:
        raise WeightsError(f"{WEIGHTS_ERROR}: value_head_init {value_head_init!r} is not one of {', '.join(VALUE_HEAD_INITS)}")
    cfg = read_config(path)
    with torch.device("meta"):
        model = _new_model(cfg, value_head)
    expected = set(model.state_dict().keys())
    if cfg.tie_word_embeddings and not value_head:
        expected.discard("lm_head.weight")  # tied: HF omits it (and we ignore it when present)
    tensors: dict[str, torch.Tensor] = {}
    for file in _weight_files(path):
        with safe_open(file, framework="pt", device="cpu") as f:
            for key in f.keys():
                name = VALUE_HEAD_ALIASES.get(key, key) if value_head else key
                if name in expected:
                    tensors[name] = f.get_tensor(key).to(device=device, dtype=dtype)
    # A policy checkpoint used for a critic has lm_head but no score; skipped keys are fine then.
    if value_head and "score.weight" not in tensors:
        gen = torch.Generator().manual_seed(seed)
        head = torch.zeros(1, cfg.hidden_size) if value_head_init == "zeros" else torch.empty(1, cfg.hidden_size).normal_(0.0, cfg.initializer_range, generator=gen)
        tensors["score.weight"] = head.to(device=device, dtype=dtype)
    missing = sorted(expected - tensors.keys())
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise WeightsError(f"{WEIGHTS_ERROR}: {path} lacks {', '.join(missing[:5])}{more}")
    shapes = {key: t.shape for key, t in model.state_dict().items()}
    for key, t in tensors.items():
        want = shapes[key]
        if t.shape != want:
            raise WeightsError(f"{WEIGHTS_ERROR}: {path}: {key} has shape {tuple(t.shape)}, config.json implies {tuple(want)}")
    model.load_state_dict(tensors, strict=False, assign=True)
    if isinstance(model, CausalLM):
        model.tie_weights()  # assign=True replaced the Parameter objects; re-share them
    return model.eval()


def _generation_config(cfg: ModelConfig) -> dict:
    keys = ("bos_token_id", "eos_token_id", "pad_token_id")
    return {k: cfg.extra[k] for k in keys if cfg.extra.get(k) is not None}


def _write_safetensors(tensors: dict[str, torch.Tensor], folder: str, max_shard_bytes: int) -> None:
    """One model.safetensors, or shards model-0000i-of-0000N.safetensors + index.json (HF layout)
    when the weights exceed `max_shard_bytes`."""
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    if total <= max_shard_bytes:
        save_file(tensors, os.path.join(folder, SINGLE_FILE), metadata={"format": "pt"})
        return
    shards: list[dict[str, torch.Tensor]] = [{}]
    shard_bytes = 0
    for key, t in tensors.items():  # state_dict order keeps a layer's tensors together
        size = t.numel() * t.element_size()
        if shards[-1] and shard_bytes + size > max_shard_bytes:
            shards.append({})
            shard_bytes = 0
        shards[-1][key] = t
        shard_bytes += size
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, os.path.join(folder, name), metadata={"format": "pt"})
        weight_map.update({key: name for key in shard})
    with open(os.path.join(folder, INDEX_FILE), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


def save_pretrained(model: nn.Module, path: str, *, max_shard_bytes: int = MAX_SHARD_BYTES) -> int:
    """Writes config.json, the safetensors weights (sharded above `max_shard_bytes`, as HF does) and
    generation_config.json into `path` atomically (a temporary folder renamed into place). Tied
    embeddings are saved once, as HF does. Returns the bytes written."""
    cfg: ModelConfig = model.config
    is_value = isinstance(model, ValueModel)
    state = model.state_dict()
    if isinstance(model, CausalLM) and cfg.tie_word_embeddings:
        state.pop("lm_head.weight")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    dtype = next(iter(tensors.values())).dtype
    path = os.path.abspath(path.rstrip("/"))
    tmp = f"{path}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    _write_safetensors(tensors, tmp, max_shard_bytes)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(cfg.to_hf(value_head=is_value, dtype=DTYPE_NAMES.get(dtype, "float32")), f, indent=2, sort_keys=True)
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        json.dump(_generation_config(cfg), f, indent=2, sort_keys=True)
    num_bytes = sum(os.path.getsize(os.path.join(tmp, name)) for name in os.listdir(tmp))
    if os.path.exists(path):  # replace: move the old folder aside first, so `path` is never half-written
        old = f"{path}.old-{os.getpid()}"
        os.rename(path, old)
        os.rename(tmp, path)
        shutil.rmtree(old)
    else:
        os.rename(tmp, path)
    return num_bytes
