"""The training step through `Worker.call` (the same entry the socket server dispatches to), in-process
on CPU with tiny random models: gradients against a plain full-logits reference, micro-batch and
`loss_norm` invariance, the schedule, optimizer state round trip, and a few PPO steps raising a toy reward."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simplerl_engine.errors import BadRequest, NotLoaded  # noqa: E402
from simplerl_engine.forward import plan_micro_batches  # noqa: E402
from simplerl_engine.optim import OptimArgs, Optimizer, lr_at  # noqa: E402
from simplerl_engine.train import plan_step  # noqa: E402
from simplerl_engine.worker import Worker  # noqa: E402

torch.set_num_threads(1)

TINY = {"model_type": "qwen2", "vocab_size": 16, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128, "rms_norm_eps": 1e-6}


def new_worker(role="policy", lr=1e-3, seed=0, **optim):
    w = Worker(torch.device("cpu"), 1)
    w.call("load", {"role": role, "config": TINY, "seed": seed, "optim": {"lr": lr, **optim}}, {})
    return w


def ragged(seqs):
    lens = torch.tensor([len(s) for s in seqs], dtype=torch.int32)
    offsets = torch.cat([torch.zeros(1, dtype=torch.int32), torch.cumsum(lens, 0, dtype=torch.int32)])
    return torch.tensor([t for s in seqs for t in s], dtype=torch.int32), offsets


def make_batch(seed: int, num_seqs: int = 6):
    """Sequences (prompt + response) and per-response-token arrays, f32 except mask."""
    g = torch.Generator().manual_seed(seed)
    seqs, prompt_lens = [], []
    for _ in range(num_seqs):
        p, r = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 7, (1,), generator=g))
        seqs.append(torch.randint(0, 16, (p + r,), generator=g).tolist())
        prompt_lens.append(p)
    ids, offsets = ragged(seqs)
    T = sum(len(s) - p for s, p in zip(seqs, prompt_lens))
    mask = (torch.rand(T, generator=g) < 0.85).to(torch.uint8)
    return {
        "ids": ids, "offsets": offsets, "prompt_lens": torch.tensor(prompt_lens, dtype=torch.int32), "mask": mask,
        "advantages": torch.randn(T, generator=g),
        "old_logprobs": -2.7 + 0.3 * torch.randn(T, generator=g),
        "ref_logprobs": -2.7 + 0.3 * torch.randn(T, generator=g),
        "returns": torch.randn(T, generator=g),
        "old_values": 0.1 * torch.randn(T, generator=g),
    }


def split(batch, b0, b1):
    """Sequences [b0, b1) of a batch and their per-token arrays."""
    o = batch["offsets"].long()
    resp = (o[1:] - o[:-1]) - batch["prompt_lens"].long()
    r = [0, *torch.cumsum(resp, 0).tolist()]
    out = {"ids": batch["ids"][o[b0]:o[b1]], "offsets": (o[b0:b1 + 1] - o[b0]).int(),
           "prompt_lens": batch["prompt_lens"][b0:b1]}
    for k, v in batch.items():
        if k not in out:
            out[k] = v[r[b0]:r[b1]]
    return out


def grads(w, role="policy"):
    return {n: p.grad.clone() for n, p in w.roles[role].model.named_parameters() if p.grad is not None}


def arrays_for(loss, batch):
    keep = {"ppo": ("advantages", "old_logprobs", "ref_logprobs"), "grpo": ("advantages", "old_logprobs", "ref_logprobs"),
            "sft": (), "value": ("returns", "old_values")}[loss]
    return {k: v for k, v in batch.items() if k in ("ids", "offsets", "prompt_lens", "mask") or k in keep}


def reference_loss(model, batch, loss, a):
    """Plain reference: full logits per sequence, then the loss token by token in a Python loop."""
    o, pl = batch["offsets"].tolist(), batch["prompt_lens"].tolist()
    terms, t = [], 0
    for b in range(len(pl)):
        ids = batch["ids"][o[b]:o[b + 1]].long()[None]
        if loss == "value":
            out = model(ids)[0]  # [L] values of every position
        else:
            out = torch.log_softmax(model(ids)[0].float(), -1)  # [L, V]
        for k in range(pl[b], o[b + 1] - o[b]):
            if batch["mask"][t]:
                if loss == "value":
                    v, old, ret = out[k - 1], batch["old_values"][t], batch["returns"][t]
                    v_clip = old + torch.clamp(v - old, -a["clip_eps"], a["clip_eps"])
                    terms.append(0.5 * torch.maximum((v - ret) ** 2, (v_clip - ret) ** 2))
                else:
                    lp = out[k - 1, ids[0, k]]
                    if loss == "sft":
                        terms.append(-lp)
                    else:
                        adv, old = batch["advantages"][t], batch["old_logprobs"][t]
                        ratio = torch.exp(lp - old)
                        l = torch.maximum(-adv * ratio, -adv * torch.clamp(ratio, 1 - a["clip_eps"], 1 + a["clip_eps"]))
                        d = batch["ref_logprobs"][t] - lp
                        terms.append(l + a["kl_coef"] * (torch.exp(d) - d - 1))
            t += 1
    return sum(terms) / len(terms)


@pytest.mark.parametrize("loss, role, loss_args", [
    ("ppo", "policy", {"kl_coef": 0.1, "kl_estimator": "k3"}),
    ("grpo", "policy", {}),
    ("sft", "policy", {}),
    ("value", "critic", {}),
])
def test_train_gradient_matches_full_logits_reference(loss, role, loss_args):
    batch = make_batch(1)
    w = new_worker(role)
    stats, _ = w.call("train", {"role": role, "loss": loss, "loss_args": loss_args, "step": False,
                                "micro_batch_tokens": 12}, arrays_for(loss, batch))
    got = grads(w, role)
    ref = new_worker(role)
    model = ref.roles[role].model
    a = {"clip_eps": 0.2, "kl_coef": 0.001 if loss == "grpo" else 0.0, **loss_args}
    expected = reference_loss(model, batch, loss, a)
    expected.backward()
    assert math.isclose(stats["loss"], float(expected.detach()), rel_tol=1e-4)
    assert stats["num_tokens"] == int(batch["mask"].sum())
    want = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert set(got) == set(want) and len(got) > 10
    for n in want:
        torch.testing.assert_close(got[n], want[n], rtol=1e-4, atol=1e-6, msg=n)
    assert stats["grad_norm"] > 0 and stats["lr"] == pytest.approx(1e-3)


@pytest.mark.parametrize("loss, role, agg", [("ppo", "policy", "token-mean"), ("grpo", "policy", "seq-mean-token-mean"),
                                             ("value", "critic", "seq-mean-token-sum")])
def test_micro_batch_budget_does_not_change_the_update(loss, role, agg):
    batch = make_batch(2, num_seqs=9)
    out = []
    for budget in (8192, 10):  # 10: length-sorted micro-batches of non-adjacent sequences
        w = new_worker(role)
        s, _ = w.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "micro_batch_tokens": budget,
                                "step": False}, arrays_for(loss, batch))
        out.append((s, grads(w, role)))
    for k, v in out[0][0].items():
        if k not in ("seconds",):
            assert out[1][0][k] == pytest.approx(v, rel=1e-5, abs=1e-7), k
    for n, g in out[0][1].items():
        torch.testing.assert_close(out[1][1][n], g, rtol=1e-5, atol=1e-7)


def test_step_plan_sorts_by_length_before_cutting():
    """Cut in batch order, [1, 9, 1, 1, 9] at 20 padded tokens needs 3 micro-batches ([1, 9], [1, 1], [9]);
    sorted it needs 2, each keeping its sequences in batch order."""
    assert plan_micro_batches([1, 9, 1, 1, 9], 20) == [(0, 2), (2, 4), (4, 5)]
    groups = plan_step(torch.tensor([1, 9, 1, 1, 9]), 20)
    assert [g.tolist() for g in groups] == [[1, 4], [0, 2, 3]]
    lens = torch.randint(1, 50, (40,), generator=torch.Generator().manual_seed(0))
    groups = plan_step(lens, 100)
    assert sorted(torch.cat(groups).tolist()) == list(range(40))
    assert all(len(g) * int(lens[g].max()) <= 100 or len(g) == 1 for g in groups)
    assert len(groups) <= len(plan_micro_batches(lens.tolist(), 100))


def _tiny_params(seed: int):
    g = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Linear(5, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return model


def test_fused_adamw_equals_the_default_and_skips_a_non_finite_step():
    """The GPU path (fused AdamW, finite check on the device, no host sync before the update), forced on
    the CPU, against the default path: same updates, and a non-finite gradient norm skips the update,
    the optimiser's step count and the schedule on both."""
    args = OptimArgs(lr=1e-2, weight_decay=0.1, grad_clip=0.5, schedule="cosine", warmup_steps=1, total_steps=6)
    models = [_tiny_params(0), _tiny_params(0)]
    opts = [Optimizer(models[0], args), Optimizer(models[1], args, fused=True)]
    assert not opts[0].is_fused and opts[1].is_fused
    g = torch.Generator().manual_seed(1)
    for step in range(5):
        grads_ = [torch.randn(p.shape, generator=g) for p in models[0].parameters()]
        if step == 2:
            grads_[1][0] = float("nan") if step % 2 else float("inf")
        before = [p.detach().clone() for p in models[1].parameters()]
        results = []
        for model, opt in zip(models, opts):
            for p, gr in zip(model.parameters(), grads_):
                p.grad = gr.clone()
            results.append(opt.step())
        (n0, lr0), (n1, lr1) = results
        assert lr0 == lr1 and (n0 == n1 or n0 == pytest.approx(n1, rel=1e-6)), (step, results)
        if step == 2:
            assert not math.isfinite(n1)
            for p, b in zip(models[1].parameters(), before):
                assert torch.equal(p.detach(), b)
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            torch.testing.assert_close(q, p, rtol=1e-6, atol=1e-7)
        assert opts[0].num_steps == opts[1].num_steps == (step if step >= 2 else step + 1)
        assert all(p.grad is None for m in models for p in m.parameters())
    s0, s1 = (o.opt.state_dict()["state"] for o in opts)
    assert [float(v["step"]) for v in s0.values()] == [float(v["step"]) for v in s1.values()] == [4.0] * 4


@pytest.mark.parametrize("loss, role, agg", [("ppo", "policy", "token-mean"), ("grpo", "policy", "seq-mean-token-mean"),
                                             ("sft", "policy", "token-mean"), ("value", "critic", "token-mean")])
def test_loss_norm_two_half_calls_equal_one_full_call(loss, role, agg):
    batch = make_batch(3, num_seqs=8)
    arrays = arrays_for(loss, batch)
    full = new_worker(role)
    s_full, _ = full.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "step": False}, arrays)
    if agg == "token-mean":
        norm = float(batch["mask"].sum())
    else:
        norm = float(sum(1 for b in range(8) if split(batch, b, b + 1)["mask"].sum() > 0))
    halves = new_worker(role)
    s1, _ = halves.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "loss_norm": norm,
                                  "step": False}, arrays_for(loss, split(batch, 0, 4)))
    s2, _ = halves.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "loss_norm": norm,
                                  "step": False}, arrays_for(loss, split(batch, 4, 8)))
    assert s1["loss"] + s2["loss"] == pytest.approx(s_full["loss"], rel=1e-5)
    assert s2["grad_norm"] == pytest.approx(s_full["grad_norm"], rel=1e-5)
    g_full, g_halves = grads(full, role), grads(halves, role)
    for n, g in g_full.items():
        torch.testing.assert_close(g_halves[n], g, rtol=1e-5, atol=1e-7, msg=n)
    # without loss_norm each half would be normalised by its own count: a different update
    other = new_worker(role)
    other.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "step": False},
               arrays_for(loss, split(batch, 0, 4)))
    other.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "step": False},
               arrays_for(loss, split(batch, 4, 8)))
    assert not all(torch.allclose(g, grads(other, role)[n], rtol=1e-3) for n, g in g_full.items())
    # the step that follows accumulation applies the same update to the weights (within 1% of an lr-sized
    # AdamW update: its first step is ~lr * sign(g), so a grad within rounding of 0 may flip)
    for w in (full, halves):
        w.call("train", {"role": role, "loss": loss, "loss_args": {"agg": agg}, "step": True,
                         "loss_norm": 1e30}, arrays_for(loss, split(batch, 0, 1)))
    for (n, p), q in zip(full.roles[role].model.named_parameters(), halves.roles[role].model.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=1e-5, msg=lambda m, n=n: f"{n}: {m}")


def test_schedule_warmup_cosine_and_constant():
    a = OptimArgs(lr=1.0, schedule="cosine", warmup_steps=4, total_steps=14, min_lr_ratio=0.1)
    assert [lr_at(a, s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_at(a, 9) == pytest.approx(0.1 + 0.9 * 0.5)  # half-way through the decay
    assert lr_at(a, 14) == pytest.approx(0.1) and lr_at(a, 100) == pytest.approx(0.1)
    c = OptimArgs(lr=2.0, warmup_steps=2)
    assert [lr_at(c, s) for s in range(4)] == [1.0, 2.0, 2.0, 2.0]
    with pytest.raises(BadRequest, match="total_steps"):
        OptimArgs.parse({"lr": 1.0, "schedule": "cosine", "warmup_steps": 3})
    with pytest.raises(BadRequest, match="optim.beta: unknown"):
        OptimArgs.parse({"lr": 1.0, "beta": 0.9})


def test_steps_follow_the_schedule_and_optimizer_state_resumes(tmp_path):
    batch = arrays_for("sft", make_batch(4))
    optim = {"schedule": "cosine", "warmup_steps": 2, "total_steps": 6, "grad_clip": 0.5}
    w = new_worker(lr=1e-2, **optim)
    lrs = [w.call("train", {"role": "policy", "loss": "sft"}, batch)[0]["lr"] for _ in range(4)]
    assert lrs == pytest.approx([5e-3, 1e-2, 1e-2, 1e-2 * (0.5 + 0.5 * math.cos(math.pi / 4))])
    w.call("save", {"role": "policy", "path": str(tmp_path / "ck"), "optimizer": True}, {})
    nxt = w.call("train", {"role": "policy", "loss": "sft"}, batch)[0]
    r = Worker(torch.device("cpu"), 1)
    r.call("load", {"role": "policy", "path": str(tmp_path / "ck"), "optim": {"lr": 1e-2, **optim},
                    "resume_optimizer": str(tmp_path / "ck" / "optimizer.pt")}, {})
    again = r.call("train", {"role": "policy", "loss": "sft"}, batch)[0]
    assert again["lr"] == nxt["lr"] and again["loss"] == pytest.approx(nxt["loss"], rel=1e-6)
    for p, q in zip(w.roles["policy"].model.parameters(), r.roles["policy"].model.parameters()):
        torch.testing.assert_close(q, p)


def test_train_request_errors():
    w = new_worker()
    batch = arrays_for("ppo", make_batch(5))
    with pytest.raises(NotLoaded):
        w.call("train", {"role": "critic", "loss": "value"}, batch)
    with pytest.raises(BadRequest, match="arrays.advantages: missing"):
        w.call("train", {"role": "policy", "loss": "ppo"}, {k: v for k, v in batch.items() if k != "advantages"})
    with pytest.raises(BadRequest, match="arrays.advantages: expected"):
        w.call("train", {"role": "policy", "loss": "ppo"}, {**batch, "advantages": batch["advantages"][:-1]})
    with pytest.raises(BadRequest, match="does not fit role"):
        w.call("train", {"role": "policy", "loss": "value"}, batch)
    with pytest.raises(BadRequest, match=r"token ids must lie in \[0, 16\)"):
        w.call("train", {"role": "policy", "loss": "sft"}, {**batch, "ids": batch["ids"] + 100})
    with pytest.raises(BadRequest, match="prompt_lens"):
        w.call("train", {"role": "policy", "loss": "sft"}, {**batch, "prompt_lens": batch["prompt_lens"] * 0})


TARGET = 5


def test_ppo_steps_raise_a_toy_reward():
    """reward = share of TARGET among the response tokens; GRPO-style group-normalised advantages."""
    w = new_worker(lr=3e-3, seed=7)
    prompts = [[1, 2, 3], [4, 6], [7, 8, 9, 10]]
    ids, offsets = ragged(prompts)
    n, rewards = 8, []
    for it in range(12):
        gen, out = w.call("generate", {"n": n, "max_new_tokens": 8, "temperature": 1.0, "seed": 100 * it},
                          {"ids": ids, "offsets": offsets})
        o = out["offsets"].tolist()
        resp = [out["ids"][o[i]:o[i + 1]].tolist() for i in range(len(o) - 1)]
        r = torch.tensor([sum(t == TARGET for t in s) / len(s) for s in resp])
        rewards.append(float(r.mean()))
        adv = ((r.view(-1, n) - r.view(-1, n).mean(1, keepdim=True)) / (r.view(-1, n).std(1, keepdim=True) + 1e-6)).view(-1)
        seqs = [prompts[i // n] + s for i, s in enumerate(resp)]
        sid, soff = ragged(seqs)
        arrays = {"ids": sid, "offsets": soff, "prompt_lens": torch.tensor([len(prompts[i // n]) for i in range(len(resp))], dtype=torch.int32),
                  "advantages": torch.repeat_interleave(adv, torch.tensor([len(s) for s in resp])).float(),
                  "old_logprobs": out["logprobs"]}
        for _ in range(2):  # two PPO epochs over the same rollouts: the ratio moves away from 1
            stats, _ = w.call("train", {"role": "policy", "loss": "ppo"}, arrays)
        assert math.isfinite(stats["loss"]) and 0 <= stats["clip_frac"] <= 1
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    print("toy reward per iteration:", [round(x, 3) for x in rewards])
    assert last > first + 0.25, rewards


def test_activation_checkpointing_gives_the_same_gradients():
    batch = arrays_for("sft", make_batch(6))
    out = []
    for ckpt in (False, True):
        w = Worker(torch.device("cpu"), 1)
        w.call("load", {"role": "policy", "config": TINY, "seed": 0, "optim": {"lr": 1e-3}, "grad_checkpointing": ckpt}, {})
        assert w.roles["policy"].model.model.gradient_checkpointing is ckpt
        w.call("train", {"role": "policy", "loss": "sft", "step": False, "micro_batch_tokens": 16}, batch)
        out.append(grads(w))
    for n, g in out[0].items():
        torch.testing.assert_close(out[1][n], g, rtol=1e-5, atol=1e-7)


def test_critic_from_a_policy_folder_gets_a_zero_head(tmp_path):
    w = new_worker()
    w.call("save", {"role": "policy", "path": str(tmp_path / "p")}, {})
    w.call("load", {"role": "critic", "path": str(tmp_path / "p"), "optim": {"lr": 1e-3}}, {})
    b = make_batch(7)
    _, out = w.call("forward", {"role": "critic", "outputs": ["values"]},
                    {k: b[k] for k in ("ids", "offsets", "prompt_lens")})
    assert out["values"].shape == b["returns"].shape and torch.count_nonzero(out["values"]) == 0
    stats, _ = w.call("train", {"role": "critic", "loss": "value"}, {**arrays_for("value", b), "old_values": out["values"]})
    assert stats["grad_norm"] > 0 and stats["vf_clip_frac"] == 0.0  # V = V_old: nothing clipped
    with pytest.raises(BadRequest, match="micro_batch_tokens must be >= 1"):
        w.call("train", {"role": "critic", "loss": "value", "micro_batch_tokens": 0}, arrays_for("value", b))
