"""N = 2 gloo ranks (CPU, FSDP2) against N = 1 on the same global batch: forward outputs, and the loss,
gradient norm and updated weights of PPO, GRPO, SFT and value steps agree to fp32 rounding."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import run_ranks, run_single  # noqa: E402
from test_train import TINY, arrays_for, make_batch  # noqa: E402

torch.set_num_threads(1)

RTOL, ATOL = 2e-5, 2e-6
SKIP_KEYS = ("seconds",)
# The key bias gets a zero gradient in exact arithmetic (softmax is invariant to the constant q·b_k it adds
# to every score of a query): its fp32 gradient is rounding noise, which AdamW normalises towards ±lr, so
# its update is noise at any N (it differs between two N = 1 runs that sum in another order too).
NOISE_ONLY = ("self_attn.k_proj.bias",)


def _script():
    a, b, one = make_batch(1, num_seqs=7), make_batch(2, num_seqs=6), make_batch(3, num_seqs=1)
    optim = {"lr": 1e-2, "grad_clip": 0.5}  # lr large enough that a wrong update shows; clipping active
    seq_arrays = {k: a[k] for k in ("ids", "offsets", "prompt_lens")}
    return [
        ("load", {"role": "policy", "config": TINY, "seed": 0, "optim": optim}, {}),
        ("load", {"role": "critic", "config": TINY, "seed": 1, "optim": optim}, {}),
        ("load", {"role": "ref", "config": TINY, "seed": 2}, {}),
        ("forward", {"role": "policy", "outputs": ["logprobs", "entropy"], "micro_batch_tokens": 24}, seq_arrays),
        ("forward", {"role": "ref", "outputs": ["logprobs"]}, seq_arrays),
        ("forward", {"role": "critic", "outputs": ["values"], "micro_batch_tokens": 16}, seq_arrays),
        ("train", {"role": "policy", "loss": "ppo", "loss_args": {"kl_coef": 0.1}, "micro_batch_tokens": 20}, arrays_for("ppo", a)),
        ("weights", "policy"),
        ("train", {"role": "policy", "loss": "grpo", "loss_args": {"agg": "seq-mean-token-mean", "entropy_coef": 0.01}}, arrays_for("grpo", b)),
        ("weights", "policy"),
        ("train", {"role": "policy", "loss": "sft", "loss_norm": 40.0, "step": False}, arrays_for("sft", a)),
        ("train", {"role": "policy", "loss": "sft", "loss_norm": 40.0}, arrays_for("sft", b)),
        ("weights", "policy"),
        ("train", {"role": "critic", "loss": "value", "loss_args": {"agg": "seq-mean-token-sum"}}, arrays_for("value", a)),
        ("weights", "critic"),
        ("train", {"role": "policy", "loss": "ppo"}, arrays_for("ppo", one)),  # fewer sequences than ranks
        ("weights", "policy"),
        ("forward", {"role": "policy", "outputs": ["logprobs"]}, seq_arrays),
        ("train", {"role": "policy", "loss": "ppx"}, arrays_for("ppo", a)),
        ("train", {"role": "policy", "loss": "ppo"}, {**arrays_for("ppo", a), "advantages": a["advantages"][:-1]}),
        ("forward", {"role": "critic", "outputs": ["logprobs"]}, seq_arrays),
        ("stats", {}, {}),
    ]


def _close(x, y, what):
    if isinstance(x, torch.Tensor):
        assert x.shape == y.shape and x.dtype == y.dtype, what
        torch.testing.assert_close(x, y, rtol=RTOL, atol=ATOL, msg=what)
    elif isinstance(x, float):
        assert math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL), (what, x, y)
    else:
        assert x == y, (what, x, y)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    script = _script()
    return script, run_single(script), run_ranks(script, tmp_path_factory.mktemp("dist"))


def test_two_ranks_equal_one_rank(results):
    script, single, multi = results
    assert len(single) == len(multi) == len(script)
    for i, (entry, s, m) in enumerate(zip(script, single, multi)):
        what = f"step {i}: {entry[0]} {entry[1] if entry[0] != 'weights' else ''}"
        assert s[0] == m[0], (what, s, m)
        if s[0] == "error":
            assert s[1:] == m[1:], what
        elif s[0] == "weights":
            assert s[1].keys() == m[1].keys()
            for k in s[1]:
                if not k.endswith(NOISE_ONLY):
                    _close(s[1][k], m[1][k], f"{what} {k}")
        elif entry[0] == "stats":
            assert m[1]["roles"]["policy"]["optimizer_steps"] == s[1]["roles"]["policy"]["optimizer_steps"] == 4
            assert m[1]["roles"]["policy"]["num_params"] == s[1]["roles"]["policy"]["num_params"]
        else:
            assert s[1].keys() == m[1].keys(), what
            for k in s[1]:
                if k not in SKIP_KEYS:
                    _close(s[1][k], m[1][k], f"{what} result.{k}")
            assert s[2].keys() == m[2].keys(), what
            for k in s[2]:
                _close(s[2][k], m[2][k], f"{what} arrays.{k}")


def test_the_steps_did_change_the_weights_and_clipped(results):
    """Guards the comparison above against a vacuous pass (no update, or no clipping)."""
    script, single, _ = results
    w = [r[1] for e, r in zip(script, single) if e[0] == "weights" and e[1] == "policy"]
    assert all(not torch.equal(w[i]["lm_head.weight"], w[i + 1]["lm_head.weight"]) for i in range(len(w) - 1))
    train = [r[1] for e, r in zip(script, single) if e[0] == "train" and r[0] == "ok"]
    assert any(t["grad_norm"] > 0.5 for t in train)
