"""LoRA under FSDP2: N = 2 gloo ranks against N = 1 on the same requests (policy with LoRA, the
reference as its base view, a LoRA critic): forward, train, generation from merged weights, the
adapters after each step and the saved PEFT adapter agree to fp32 rounding."""

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import run_ranks, run_single  # noqa: E402
from test_dist_train import _close  # noqa: E402
from test_train import TINY, arrays_for, make_batch  # noqa: E402

LORA = {"rank": 4, "alpha": 8}  # dropout 0: each rank would draw its own dropout masks


def _script(out_dir: str):
    a, b = make_batch(1, num_seqs=7), make_batch(2, num_seqs=6)
    optim = {"lr": 1e-2, "grad_clip": 0.5}
    seq_arrays = {k: a[k] for k in ("ids", "offsets", "prompt_lens")}
    return [
        ("load", {"role": "policy", "config": TINY, "seed": 0, "optim": optim, "lora": LORA}, {}),
        ("load", {"role": "ref", "base_of": "policy"}, {}),
        ("load", {"role": "critic", "config": TINY, "seed": 1, "optim": optim, "lora": LORA, "value_head_from": "random"}, {}),
        ("train", {"role": "policy", "loss": "ppo", "loss_args": {"kl_coef": 0.1}, "micro_batch_tokens": 20}, arrays_for("ppo", a)),
        ("weights", "policy"),
        ("train", {"role": "policy", "loss": "grpo"}, arrays_for("grpo", b)),
        ("weights", "policy"),
        ("train", {"role": "critic", "loss": "value"}, arrays_for("value", a)),
        ("weights", "critic"),
        ("forward", {"role": "policy", "outputs": ["logprobs", "entropy"], "micro_batch_tokens": 24}, seq_arrays),
        ("forward", {"role": "ref", "outputs": ["logprobs"]}, seq_arrays),
        ("forward", {"role": "critic", "outputs": ["values"]}, seq_arrays),
        ("generate", {"n": 2, "max_new_tokens": 5, "seed": 3}, {"ids": a["ids"], "offsets": a["offsets"]}),
        ("save", {"role": "policy", "path": f"{out_dir}/adapter"}, {}),
        ("save", {"role": "policy", "path": f"{out_dir}/merged", "merged": True}, {}),
        ("stats", {}, {}),
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    single = run_single(_script(str(one)))
    multi = run_ranks(_script(str(two)), tmp_path_factory.mktemp("dist"))
    return single, multi, one, two


def test_two_ranks_equal_one_rank_with_lora(results):
    single, multi, one, two = results
    script = _script("")
    for i, (entry, s, m) in enumerate(zip(script, single, multi)):
        what = f"step {i}: {entry[0]} {entry[1]}"
        assert s[0] == m[0] == ("weights" if entry[0] == "weights" else "ok"), (what, s, m)
        if s[0] == "weights":
            assert s[1].keys() == m[1].keys()
            for k in s[1]:
                _close(s[1][k], m[1][k], f"{what} {k}")
        elif entry[0] in ("train", "forward", "generate"):
            for k in s[2]:
                _close(s[2][k], m[2][k], f"{what} arrays.{k}")
            for k in ("loss", "grad_norm"):
                if k in s[1]:
                    _close(s[1][k], m[1][k], f"{what} {k}")
    for name in ("adapter/adapter_model.safetensors", "merged/model.safetensors"):
        x, y = load_file(str(one / name)), load_file(str(two / name))
        assert x.keys() == y.keys()
        for k in x:
            _close(x[k], y[k], f"{name} {k}")
    stats = multi[-1][1]["roles"]
    assert stats["policy"]["num_trainable_params"] == single[-1][1]["roles"]["policy"]["num_trainable_params"] < stats["policy"]["num_params"] / 4


def test_the_adapters_moved_and_the_base_did_not(results):
    single, multi, _, _ = results
    w1, w2 = multi[4][1], multi[6][1]
    assert not torch.equal(w1["model.layers.0.self_attn.q_proj.lora_B.weight"], w2["model.layers.0.self_attn.q_proj.lora_B.weight"])
    assert torch.equal(w1["model.layers.0.self_attn.q_proj.weight"], w2["model.layers.0.self_attn.q_proj.weight"])
