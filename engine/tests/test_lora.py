"""LoRA through `Worker.call` on CPU with tiny random models: a frozen base (no gradients, no optimiser
state, bit-identical after training), the reference as the policy's own module with the adapters off,
generation from merged weights (the same tokens as unmerged, base untouched), save / load of PEFT
adapters, exact resume (dropout on, so the RNG state matters), the critic's LoRA + value head, and the
errors that name the field."""

import json

import pytest
import torch
from test_train import TINY, arrays_for, make_batch

from simplerl_engine.errors import BadRequest
from simplerl_engine.model.lora import LoraLinear, merged
from simplerl_engine.worker import Worker

LORA = {"rank": 4, "alpha": 8, "dropout": 0.1}
OPTIM = {"lr": 1e-2}


def new_worker(lora=LORA, role="policy", seed=0, **extra) -> Worker:
    w = Worker(torch.device("cpu"), 1)
    w.call("load", {"role": role, "config": TINY, "seed": seed, "optim": OPTIM, "lora": lora, **extra}, {})
    return w


def seqs(batch):
    return {k: batch[k] for k in ("ids", "offsets", "prompt_lens")}


def logprobs(w, role, batch):
    return w.call("forward", {"role": role, "outputs": ["logprobs"]}, seqs(batch))[1]["logprobs"]


def base_params(w, role="policy"):
    return {n: p.detach().clone() for n, p in w.roles[role].model.named_parameters() if ".lora_" not in n}


def test_only_the_adapters_train_and_hold_optimiser_state():
    w = Worker(torch.device("cpu"), 1)
    stats = w.call("load", {"role": "policy", "config": TINY, "seed": 0, "optim": OPTIM, "lora": LORA}, {})[0]
    # 2 layers × r·(in + out) of q, o (32→32), k, v (32→16), gate, up, down (32↔64)
    assert stats["num_trainable_params"] == 2 * (4 * (32 + 32) * 2 + 4 * (32 + 16) * 2 + 4 * (32 + 64) * 3)
    before = base_params(w)
    for seed in (1, 2):
        w.call("train", {"role": "policy", "loss": "ppo"}, arrays_for("ppo", make_batch(seed)))
    model = w.roles["policy"].model
    state = w.roles["policy"].optim.opt.state
    trained = {id(p) for n, p in model.named_parameters() if ".lora_" in n}
    assert {id(p) for p in state} == trained and len(trained) == 2 * 7 * 2
    for n, p in model.named_parameters():
        assert p.requires_grad == (".lora_" in n) and p.grad is None, n
        if ".lora_" not in n:
            assert torch.equal(p, before[n]), n  # the frozen base did not move
    assert any(m.lora_B.weight.abs().max() > 0 for m in model.modules() if isinstance(m, LoraLinear))


def test_the_reference_is_the_policy_module_with_adapters_off():
    w = new_worker()
    plain = Worker(torch.device("cpu"), 1)
    plain.call("load", {"role": "ref", "config": TINY, "seed": 0}, {})
    w.call("load", {"role": "ref", "base_of": "policy"}, {})
    assert w.roles["ref"].model is w.roles["policy"].model  # no second copy of the weights
    for seed in (1, 2):
        w.call("train", {"role": "policy", "loss": "grpo", "loss_args": {"kl_coef": 0.0}}, arrays_for("grpo", make_batch(seed)))
    b = make_batch(3)
    assert torch.equal(logprobs(w, "ref", b), logprobs(plain, "ref", b))
    assert (logprobs(w, "policy", b) - logprobs(w, "ref", b)).abs().max() > 1e-3
    w.call("load", {"role": "policy", "config": TINY, "seed": 0, "optim": OPTIM, "lora": LORA}, {})
    assert "ref" not in w.roles  # a view of the old policy goes with it


def _generate(w):
    b = make_batch(4)
    return w.call("generate", {"n": 3, "max_new_tokens": 6, "seed": 7}, {"ids": b["ids"], "offsets": b["offsets"]})[1]


def test_generation_from_merged_weights_matches_unmerged_and_leaves_the_base_exact(monkeypatch):
    w = new_worker(lora={**LORA, "dropout": 0.0})
    w.call("train", {"role": "policy", "loss": "ppo"}, arrays_for("ppo", make_batch(1)))
    before = base_params(w)
    out = _generate(w)
    assert all(torch.equal(p, before[n]) for n, p in base_params(w).items())
    b = make_batch(4)
    prompts = [b["ids"][o0:o1] for o0, o1 in zip(b["offsets"][:-1].tolist(), b["offsets"][1:].tolist())]
    rows = torch.split(out["ids"], (out["offsets"][1:] - out["offsets"][:-1]).tolist())
    full = [torch.cat([prompts[i // 3], r]) for i, r in enumerate(rows)]
    lens = torch.tensor([len(s) for s in full], dtype=torch.int32)
    arrays = {"ids": torch.cat(full).to(torch.int32), "offsets": torch.cat([torch.zeros(1, dtype=torch.int32), lens.cumsum(0, dtype=torch.int32)]),
              "prompt_lens": torch.tensor([len(prompts[i // 3]) for i in range(len(rows))], dtype=torch.int32)}
    unmerged = w.call("forward", {"role": "policy", "outputs": ["logprobs"]}, arrays)[1]["logprobs"]
    torch.testing.assert_close(out["logprobs"], unmerged, atol=2e-5, rtol=0)  # sampled under merged weights
    # in place merge + unmerge is not exact: why generation merges into a copy
    with torch.no_grad(), merged(w.roles["policy"].model, "inplace"):
        pass
    drift = max((p - before[n]).abs().max().item() for n, p in base_params(w).items())
    assert drift > 0


def test_save_load_and_exact_resume(tmp_path):
    a, b, c = (arrays_for("ppo", make_batch(s)) for s in (1, 2, 3))
    w = new_worker()
    w.call("load", {"role": "ref", "base_of": "policy"}, {})
    w.call("train", {"role": "policy", "loss": "ppo"}, a)
    w.call("save", {"role": "policy", "path": str(tmp_path / "ckpt"), "optimizer": True}, {})
    cfg = json.loads((tmp_path / "ckpt" / "adapter_config.json").read_text())
    assert (cfg["r"], cfg["lora_alpha"], cfg["lora_dropout"], cfg["peft_type"]) == (4, 8, 0.1, "LORA")
    rest = [w.call("train", {"role": "policy", "loss": "ppo"}, x)[0]["loss"] for x in (b, c)]
    final = logprobs(w, "policy", make_batch(5))
    r = Worker(torch.device("cpu"), 1)
    r.call("load", {"role": "policy", "config": TINY, "seed": 0, "optim": OPTIM,
                    "lora": {**LORA, "adapter_path": str(tmp_path / "ckpt")},
                    "resume_optimizer": str(tmp_path / "ckpt" / "optimizer.pt")}, {})
    resumed = [r.call("train", {"role": "policy", "loss": "ppo"}, x)[0]["loss"] for x in (b, c)]
    assert resumed == rest  # bit-identical: adapters, AdamW moments and the dropout RNG came back
    assert torch.equal(logprobs(r, "policy", make_batch(5)), final)
    with pytest.raises(BadRequest, match=r"has rank 4, but load args.lora.rank is 8"):
        r.call("load", {"role": "policy", "config": TINY, "lora": {**LORA, "rank": 8, "adapter_path": str(tmp_path / "ckpt")}}, {})


def test_critic_lora_trains_adapters_and_value_head(tmp_path):
    w = new_worker(role="critic", seed=1, value_head_from="random")
    head = w.roles["critic"].model.score.weight.detach().clone()
    w.call("train", {"role": "critic", "loss": "value"}, arrays_for("value", make_batch(1)))
    assert not torch.equal(w.roles["critic"].model.score.weight, head)
    w.call("save", {"role": "critic", "path": str(tmp_path / "critic")}, {})
    r = Worker(torch.device("cpu"), 1)
    r.call("load", {"role": "critic", "config": TINY, "seed": 1, "lora": {**LORA, "adapter_path": str(tmp_path / "critic")}}, {})
    b = seqs(make_batch(2))
    torch.testing.assert_close(r.call("forward", {"role": "critic", "outputs": ["values"]}, b)[1]["values"],
                               w.call("forward", {"role": "critic", "outputs": ["values"]}, b)[1]["values"], atol=0, rtol=0)


@pytest.mark.parametrize("lora,match", [
    ({"rank": 4, "alpha": 8, "target_modules": ["q_proj", "qkv"]}, r"\['qkv'\] match no linear layer"),
    ({"rank": 0, "alpha": 8}, "need rank >= 1"),
    ({"rank": 4}, "args.lora.alpha must be a number"),
    ({"rank": 4, "alpha": 8, "r": 2}, "args.lora.r is unknown; valid: rank"),
])
def test_bad_lora_args_name_the_field(lora, match):
    with pytest.raises(BadRequest, match=match):
        new_worker(lora=lora)


def test_ref_cannot_take_lora_and_base_of_needs_a_lora_role():
    w = Worker(torch.device("cpu"), 1)
    w.call("load", {"role": "policy", "config": TINY, "optim": OPTIM}, {})
    with pytest.raises(BadRequest, match="that role has no LoRA adapters"):
        w.call("load", {"role": "ref", "base_of": "policy"}, {})
    with pytest.raises(BadRequest, match="args.lora is not for role 'ref'"):
        w.call("load", {"role": "ref", "config": TINY, "lora": LORA}, {})
    with pytest.raises(BadRequest, match="args.merged needs a role with LoRA"):
        w.call("save", {"role": "policy", "path": "/tmp/x", "merged": True}, {})


def test_two_processes_draw_the_same_dropout_masks():
    """torch seeds its global RNG at random in each process: `load` seeds it for LoRA dropout."""
    import subprocess
    import sys

    code = ("import sys, torch; sys.path[:0] = ['engine', 'engine/tests']; from test_lora import *; "
            "w = new_worker(); print(w.call('train', {'role': 'policy', 'loss': 'ppo'}, arrays_for('ppo', make_batch(1)))[0]['loss'], "
            "w.call('train', {'role': 'policy', 'loss': 'ppo'}, arrays_for('ppo', make_batch(2)))[0]['loss'])")
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    runs = [subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
