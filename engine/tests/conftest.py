"""Shared fixtures: tiny random Qwen2 and Llama checkpoints written by transformers (the reference),
with weights scaled so that next-token distributions are peaked (greedy paths are free of near-ties)
and biases / norm weights non-trivial (so their code paths are exercised)."""

import math
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # PYTHONPATH=engine also works

TINY = dict(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-6)


def hf_config(model_type: str, *, tie: bool = False, **overrides):
    import transformers

    kwargs = dict(TINY, tie_word_embeddings=tie, **overrides)
    if model_type == "qwen2":
        return transformers.Qwen2Config(rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **kwargs)
    if model_type == "llama":
        return transformers.LlamaConfig(rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, bos_token_id=1, eos_token_id=2, **kwargs)
    raise ValueError(model_type)


@torch.no_grad()
def randomize(model: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=gen)
        if name.endswith("norm.weight"):
            p.copy_(1.0 + 0.1 * noise)
        elif name.endswith(".bias"):
            p.copy_(0.1 * noise)
        elif "embed_tokens" in name:
            p.copy_(noise)
        else:
            p.copy_(noise / math.sqrt(p.shape[-1]))


def make_hf_checkpoint(path: str, model_type: str, *, tie: bool = False, seed: int = 0, **config_overrides) -> str:
    import transformers

    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(hf_config(model_type, tie=tie, **config_overrides))
    randomize(model, seed)
    model.save_pretrained(path)
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def qwen2_dir(tmp_path_factory) -> str:
    return make_hf_checkpoint(str(tmp_path_factory.mktemp("qwen2")), "qwen2", seed=1)


@pytest.fixture(scope="session")
def qwen2_tied_dir(tmp_path_factory) -> str:
    return make_hf_checkpoint(str(tmp_path_factory.mktemp("qwen2_tied")), "qwen2", tie=True, seed=2)


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory) -> str:
    return make_hf_checkpoint(str(tmp_path_factory.mktemp("llama")), "llama", seed=3, attention_bias=True, mlp_bias=True)


@pytest.fixture(scope="session")
def llama_tied_dir(tmp_path_factory) -> str:
    return make_hf_checkpoint(str(tmp_path_factory.mktemp("llama_tied")), "llama", tie=True, seed=4)


@pytest.fixture(params=["qwen2_dir", "qwen2_tied_dir", "llama_dir", "llama_tied_dir"])
def any_checkpoint(request) -> str:
    return request.getfixturevalue(request.param)


def load_hf(path: str):
    import transformers

    return transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
