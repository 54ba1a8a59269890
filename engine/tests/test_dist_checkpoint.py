"""Checkpoints of N = 2 gloo ranks: rank 0 writes the full Hugging Face folder (transformers loads it),
the AdamW state goes through torch.distributed.checkpoint, resuming with the same N continues exactly
as the uninterrupted run, and with another N (2 → 1, 1 → 2) the weights load exactly and the optimiser
state is resharded, so the next update is the same to fp32 rounding."""

import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import run_ranks, run_single  # noqa: E402
from test_train import TINY, arrays_for, make_batch  # noqa: E402

torch.set_num_threads(1)

OPTIM = {"lr": 1e-2, "schedule": "cosine", "warmup_steps": 1, "total_steps": 4, "grad_clip": 0.5}
TIED = {**TINY, "tie_word_embeddings": True}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    ckpt, critic_ckpt = str(root / "step-1" / "policy"), str(root / "step-1" / "critic")
    b1, b2 = arrays_for("ppo", make_batch(1, num_seqs=5)), arrays_for("ppo", make_batch(2, num_seqs=6))
    v1 = arrays_for("value", make_batch(3, num_seqs=4))
    uninterrupted = [
        ("load", {"role": "policy", "config": TIED, "seed": 0, "optim": OPTIM}, {}),
        ("load", {"role": "critic", "config": TINY, "seed": 1, "optim": OPTIM}, {}),
        ("train", {"role": "policy", "loss": "ppo"}, b1),
        ("train", {"role": "critic", "loss": "value"}, v1),
        ("save", {"role": "policy", "path": ckpt, "optimizer": True}, {}),
        ("save", {"role": "critic", "path": critic_ckpt}, {}),
        ("weights", "policy"),
        ("weights", "critic"),
        ("train", {"role": "policy", "loss": "ppo"}, b2),
        ("weights", "policy"),
    ]
    resumed = [
        ("load", {"role": "policy", "path": ckpt, "optim": OPTIM, "resume_optimizer": os.path.join(ckpt, "optimizer.pt")}, {}),
        ("train", {"role": "policy", "loss": "ppo"}, b2),
        ("weights", "policy"),
        ("load", {"role": "policy", "path": ckpt, "optim": OPTIM, "resume_optimizer": str(root / "nope.pt")}, {}),
    ]
    single_ckpt = str(root / "step-2-single" / "policy")
    other_n = [("load", {"role": "policy", "path": ckpt}, {}), ("weights", "policy"),
               ("load", {"role": "critic", "path": critic_ckpt}, {}), ("weights", "critic"),
               ("load", {"role": "policy", "path": ckpt, "optim": OPTIM,
                         "resume_optimizer": os.path.join(ckpt, "optimizer.pt")}, {}),
               ("train", {"role": "policy", "loss": "ppo"}, b2), ("weights", "policy"),
               ("save", {"role": "policy", "path": single_ckpt, "optimizer": True}, {}),
               ("train", {"role": "policy", "loss": "ppo"}, b1), ("weights", "policy")]
    from_single = [("load", {"role": "policy", "path": single_ckpt, "optim": OPTIM,
                             "resume_optimizer": os.path.join(single_ckpt, "optimizer.pt")}, {}),
                   ("train", {"role": "policy", "loss": "ppo"}, b1), ("weights", "policy")]
    a = run_ranks(uninterrupted, root / "a")
    b = run_ranks(resumed, root / "b")
    one = run_single(other_n)
    return {"ckpt": ckpt, "a": a, "b": b, "one": one, "c": run_ranks(from_single, root / "c")}


def _same(x: dict, y: dict, rtol=0.0, atol=0.0):
    assert x.keys() == y.keys()
    for k in x:
        torch.testing.assert_close(x[k], y[k], rtol=rtol, atol=atol, msg=k)


def test_rank0_writes_a_folder_transformers_loads(runs):
    import transformers

    a = runs["a"]
    assert all(r[0] != "error" for r in a), [r for r in a if r[0] == "error"]
    assert a[4][1]["bytes"] > 0
    files = set(os.listdir(runs["ckpt"]))
    assert {"config.json", "model.safetensors", "generation_config.json", "optimizer.pt", "optimizer.dcp"} <= files
    hf = transformers.AutoModelForCausalLM.from_pretrained(runs["ckpt"], dtype=torch.float32)
    hf_state = hf.state_dict()
    for k, v in a[6][1].items():
        torch.testing.assert_close(hf_state[k], v, rtol=0, atol=0, msg=k)


def test_same_n_resume_continues_exactly(runs):
    a, b = runs["a"], runs["b"]
    assert b[0][0] == "ok" and b[1][0] == "ok", b[:2]
    assert b[1][1]["lr"] == a[8][1]["lr"]  # the schedule position came back (cosine step 1, not warm-up step 0)
    _same(a[9][1], b[2][1])
    assert not torch.equal(a[6][1]["lm_head.weight"], a[9][1]["lm_head.weight"])
    assert b[3][0] == "error" and "does not exist" in b[3][2]


def test_resume_with_another_n(runs):
    """Weights load exactly into one process; the optimiser state moves between N = 2 and N = 1 (resharded
    either way), so the next update equals the uninterrupted one to fp32 rounding."""
    a, one, c = runs["a"], runs["one"], runs["c"]
    assert all(r[0] != "error" for r in one + c), [r for r in one + c if r[0] == "error"]
    _same(a[6][1], one[1][1])
    _same(a[7][1], one[3][1])
    assert one[5][1]["lr"] == a[8][1]["lr"]
    _same(_without_noise(a[9][1]), _without_noise(one[6][1]), rtol=2e-5, atol=2e-6)  # N = 2 → N = 1
    assert c[1][1]["lr"] == one[8][1]["lr"]
    _same(_without_noise(one[9][1]), _without_noise(c[2][1]), rtol=2e-5, atol=2e-6)  # N = 1 → N = 2


def _without_noise(state: dict) -> dict:
    """The key bias takes AdamW-normalised rounding noise as its update at any N (test_dist_train.py)."""
    return {k: v for k, v in state.items() if not k.endswith("self_attn.k_proj.bias")}
