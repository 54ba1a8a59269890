"""Our LoRA against PEFT (the reference, from PyPI): PEFT loads the adapter our engine saved onto the
transformers base and gives our logits; our merged export equals PEFT's merge_and_unload; and we load
an adapter that PEFT itself wrote. The adapters are trained first (three AdamW steps at a high lr), so B ≠ 0."""

import json
import os

import pytest
import torch
from conftest import load_hf
from safetensors.torch import load_file

from simplerl_engine.worker import Worker

peft = pytest.importorskip("peft")

LOGITS_ATOL = 2e-5  # fp32, same weights, different kernels and summation order
MERGE_ATOL = 1e-6  # W + s·BA: one matmul each side
LORA = {"rank": 4, "alpha": 8.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}


def _ids():
    g = torch.Generator().manual_seed(5)
    return torch.randint(0, 128, (3, 11), generator=g)


def _ragged(ids: torch.Tensor) -> dict:
    B, T = ids.shape
    return {"ids": ids.reshape(-1).to(torch.int32), "offsets": torch.arange(0, B * T + 1, T, dtype=torch.int32),
            "prompt_lens": torch.ones(B, dtype=torch.int32)}


def _trained_worker(base: str) -> Worker:
    w = Worker(torch.device("cpu"), 1)
    w.call("load", {"role": "policy", "path": base, "seed": 3, "optim": {"lr": 5e-2}, "lora": LORA}, {})
    arrays = _ragged(_ids())
    T = int(arrays["offsets"][-1]) - 3
    for _ in range(3):
        w.call("train", {"role": "policy", "loss": "sft"}, arrays)
    assert T > 0
    return w


def _our_logprobs(w: Worker, role: str = "policy") -> torch.Tensor:
    _, out = w.call("forward", {"role": role, "outputs": ["logprobs"]}, _ragged(_ids()))
    return out["logprobs"]


def _hf_logprobs(model) -> torch.Tensor:
    ids = _ids()
    with torch.no_grad():
        logits = model(ids).logits.float()
    lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
    return lp.reshape(-1)


@pytest.mark.parametrize("base_fixture", ["qwen2_dir", "llama_tied_dir"])
def test_peft_loads_our_adapter_and_matches_our_logits(base_fixture, request, tmp_path):
    base = request.getfixturevalue(base_fixture)
    w = _trained_worker(base)
    w.call("save", {"role": "policy", "path": str(tmp_path / "adapter")}, {})
    keys = set(load_file(str(tmp_path / "adapter" / "adapter_model.safetensors")))
    assert "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" in keys
    assert len(keys) == 2 * 7 * 2  # A and B of 7 projections in 2 layers
    cfg = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == os.path.abspath(base)
    model = peft.PeftModel.from_pretrained(load_hf(base), str(tmp_path / "adapter")).eval()
    ours = _our_logprobs(w)
    theirs = _hf_logprobs(model)
    assert (ours - _hf_logprobs(load_hf(base))).abs().max() > 1e-2  # the adapter changed the model
    print(f"peft logits max abs diff {(ours - theirs).abs().max().item():.2e}")
    torch.testing.assert_close(ours, theirs, atol=LOGITS_ATOL, rtol=0)
    # the reference is the same module with the adapters off: the base's logits
    w.call("load", {"role": "ref", "base_of": "policy"}, {})
    torch.testing.assert_close(_our_logprobs(w, "ref"), _hf_logprobs(load_hf(base)), atol=LOGITS_ATOL, rtol=0)


def test_merged_export_equals_peft_merge_and_unload(qwen2_dir, tmp_path):
    w = _trained_worker(qwen2_dir)
    w.call("save", {"role": "policy", "path": str(tmp_path / "adapter")}, {})
    w.call("save", {"role": "policy", "path": str(tmp_path / "merged"), "merged": True}, {})
    ours = load_file(str(tmp_path / "merged" / "model.safetensors"))
    merged = peft.PeftModel.from_pretrained(load_hf(qwen2_dir), str(tmp_path / "adapter")).merge_and_unload()
    theirs = merged.state_dict()
    assert set(ours) == set(theirs) - {"lm_head.weight"} | ({"lm_head.weight"} & set(ours))
    max_diff = max((ours[k] - theirs[k]).abs().max().item() for k in ours)
    print(f"merged export vs merge_and_unload max abs diff {max_diff:.2e}")
    assert max_diff <= MERGE_ATOL, max_diff
    assert (ours["model.layers.1.mlp.down_proj.weight"] - load_hf(qwen2_dir).state_dict()["model.layers.1.mlp.down_proj.weight"]).abs().max() > 1e-3
    # and transformers reads our merged folder as a plain model with the adapted logits
    torch.testing.assert_close(_hf_logprobs(load_hf(str(tmp_path / "merged"))), _our_logprobs(w), atol=LOGITS_ATOL, rtol=0)


def test_we_load_an_adapter_peft_wrote(qwen2_dir, tmp_path):
    torch.manual_seed(0)
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=LORA["target_modules"], init_lora_weights=False)
    model = peft.get_peft_model(load_hf(qwen2_dir), cfg).eval()  # init_lora_weights=False: random B too
    model.save_pretrained(str(tmp_path / "theirs"))
    w = Worker(torch.device("cpu"), 1)
    w.call("load", {"role": "policy", "path": qwen2_dir, "lora": {**LORA, "adapter_path": str(tmp_path / "theirs")}}, {})
    torch.testing.assert_close(_our_logprobs(w), _hf_logprobs(model), atol=LOGITS_ATOL, rtol=0)
