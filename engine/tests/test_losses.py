"""Each loss and aggregation against a plain per-token loop (values and gradients), on CPU tensors."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simplerl_engine.errors import BadRequest  # noqa: E402
from simplerl_engine.losses import AGGS, LOSSES, LossInputs, aggregate, default_norm, get_loss, kl_penalty  # noqa: E402

torch.set_num_threads(1)


def make_batch(seed: int, num_seqs: int = 8):
    g = torch.Generator().manual_seed(seed)
    resp_lens = torch.randint(1, 9, (num_seqs,), generator=g)
    T = int(resp_lens.sum())
    mask = (torch.rand(T, generator=g) < 0.8).float()
    mask[: int(resp_lens[0])] = 0.0  # one sequence fully masked: seq-mean must skip it
    logprobs = -torch.rand(T, generator=g) * 3
    return {
        "resp_lens": resp_lens,
        "mask": mask,
        "logprobs": logprobs,
        "old_logprobs": logprobs + torch.randn(T, generator=g) * 0.8,  # ratios outside 1 ± 0.2 and beyond the dual clip
        "ref_logprobs": logprobs + torch.randn(T, generator=g) * 0.5,
        "entropy": torch.rand(T, generator=g) * 2,
        "advantages": torch.randn(T, generator=g),
        "values": torch.randn(T, generator=g),
        "old_values": torch.randn(T, generator=g),
        "returns": torch.randn(T, generator=g),
    }


def ref_policy_token(lp, old, adv, ref, ent, a):
    """PPO on one token, written with branches as in the paper."""
    ratio = torch.exp(lp - old)
    lo, hi = 1 - a["clip_eps"], 1 + a["clip_eps_high"]
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, lo, hi)
    loss = unclipped if unclipped >= clipped else clipped
    if a["dual_clip"] is not None and adv < 0 and loss > -adv * a["dual_clip"]:
        loss = -adv * a["dual_clip"]
    if a["kl_coef"] > 0:
        log_r = ref - lp  # log(pi_ref / pi)
        kl = {"k1": -log_r, "k2": 0.5 * log_r**2, "k3": torch.exp(log_r) - log_r - 1}[a["kl_estimator"]]
        loss = loss + a["kl_coef"] * kl
    return loss - a["entropy_coef"] * ent


def ref_value_token(v, old, ret, a):
    if a["clip_eps"] is None:
        return 0.5 * (v - ret) ** 2
    v_clip = old + torch.clamp(v - old, -a["clip_eps"], a["clip_eps"])
    return 0.5 * max((v - ret) ** 2, (v_clip - ret) ** 2)


def ref_loss(name, a, b, x):
    """Loop over sequences and tokens; x holds leaf tensors whose grads we compare."""
    per_seq = []
    t = 0
    for n in b["resp_lens"].tolist():
        terms = []
        for k in range(t, t + n):
            if b["mask"][k] == 0:
                continue
            if name in ("ppo", "grpo"):
                terms.append(ref_policy_token(x["logprobs"][k], b["old_logprobs"][k], b["advantages"][k],
                                              b["ref_logprobs"][k], x["entropy"][k], a))
            elif name == "sft":
                terms.append(-x["logprobs"][k])
            else:
                terms.append(ref_value_token(x["values"][k], b["old_values"][k], b["returns"][k], a))
        per_seq.append(terms)
        t += n
    all_terms = [term for terms in per_seq for term in terms]
    if a["agg"] == "token-mean":
        return sum(all_terms) / len(all_terms)
    seqs = [terms for terms in per_seq if terms]
    if a["agg"] == "seq-mean-token-mean":
        return sum(sum(terms) / len(terms) for terms in seqs) / len(seqs)
    return sum(sum(terms) for terms in seqs) / len(seqs)


CASES = [
    ("ppo", {}),
    ("ppo", {"clip_eps_high": 0.28, "dual_clip": 2.0, "kl_coef": 0.1, "kl_estimator": "k1", "entropy_coef": 0.01}),
    ("ppo", {"kl_coef": 0.2, "kl_estimator": "k2"}),
    ("grpo", {}),  # k3, kl_coef 0.001
    ("grpo", {"kl_coef": 0.5, "dual_clip": 1.5, "entropy_coef": 0.1}),
    ("sft", {}),
    ("value", {}),
    ("value", {"clip_eps": None}),
]


@pytest.mark.parametrize("agg", AGGS)
@pytest.mark.parametrize("name, args", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_loss_gradient_matches_per_token_loop(name, args, agg, seed):
    spec = get_loss(name)
    a = spec.resolve({**args, "agg": agg})
    b = make_batch(seed)
    leaves = {k: b[k].clone().requires_grad_(True) for k in ("logprobs", "entropy", "values")}
    inp = LossInputs(mask=b["mask"], **{k: v for k, v in leaves.items()},
                     **{k: b[k] for k in ("advantages", "old_logprobs", "ref_logprobs", "returns", "old_values")})
    per_token, metrics = spec.fn(inp, a)
    loss = aggregate(per_token, b["mask"], b["resp_lens"], agg, default_norm(b["mask"], b["resp_lens"], agg))
    loss.backward()
    ref_leaves = {k: b[k].clone().requires_grad_(True) for k in ("logprobs", "entropy", "values")}
    expected = ref_loss(name, a, b, ref_leaves)
    expected.backward()
    assert math.isclose(float(loss.detach()), float(expected.detach()), rel_tol=1e-5, abs_tol=1e-6)
    for k in leaves:
        zeros = torch.zeros_like(b[k])
        got = leaves[k].grad if leaves[k].grad is not None else zeros
        want = ref_leaves[k].grad if ref_leaves[k].grad is not None else zeros
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7, msg=f"d loss / d {k}")
    if name in ("ppo", "grpo"):  # the batch exercises both sides of the clip
        frac = float((metrics["clip_frac"] * b["mask"]).sum() / b["mask"].sum())
        assert 0.05 < frac < 0.95
        if a["dual_clip"] is not None:  # some tokens take the dual-clip branch
            ratio = torch.exp(b["logprobs"] - b["old_logprobs"])
            assert ((b["advantages"] < 0) & (ratio > a["dual_clip"]) & (b["mask"] > 0)).any()


def test_loss_norm_splits_a_batch_exactly():
    """Two halves each normalised by the full batch's denominator add up to the full-batch loss."""
    b = make_batch(3, num_seqs=6)
    spec = get_loss("ppo")
    for agg in AGGS:
        a = spec.resolve({"agg": agg})
        norm = default_norm(b["mask"], b["resp_lens"], agg)

        def loss_of(s0, s1):
            off = [0, *torch.cumsum(b["resp_lens"], 0).tolist()]
            sl = slice(off[s0], off[s1])
            inp = LossInputs(mask=b["mask"][sl], logprobs=b["logprobs"][sl], advantages=b["advantages"][sl],
                             old_logprobs=b["old_logprobs"][sl])
            per_token, _ = spec.fn(inp, a)
            return aggregate(per_token, b["mask"][sl], b["resp_lens"][s0:s1], agg, norm)

        assert math.isclose(float(loss_of(0, 3) + loss_of(3, 6)), float(loss_of(0, 6)), rel_tol=1e-6)


def test_kl_estimators_agree_with_their_definitions():
    p = torch.tensor([0.5, 0.3, 0.2])
    q = torch.tensor([0.2, 0.5, 0.3])
    exact = float((p * (p / q).log()).sum())  # KL(p || q)
    lp, lq = p.log(), q.log()
    for est in ("k1", "k3"):  # unbiased: the expectation under p is the exact KL
        assert math.isclose(float((p * kl_penalty(lp, lq, est)).sum()), exact, rel_tol=1e-5)
    assert (kl_penalty(lp, lq, "k3") >= 0).all() and (kl_penalty(lp, lq, "k2") >= 0).all()


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(BadRequest, match="unknown loss 'dpo'; valid: ppo, grpo, gspo, sft, value"):
        get_loss("dpo")
    with pytest.raises(BadRequest, match="loss_args.clip: unknown for loss 'ppo'; valid: agg, clip_eps"):
        get_loss("ppo").resolve({"clip": 0.1})
    with pytest.raises(BadRequest, match="kl_estimator: 'k4' is not one of k1, k2, k3"):
        get_loss("grpo").resolve({"kl_estimator": "k4"})
    with pytest.raises(BadRequest, match="dual_clip: must be > 1"):
        get_loss("ppo").resolve({"dual_clip": 0.5})
    assert set(LOSSES) == {"ppo", "grpo", "gspo", "sft", "value"}


def test_required_arrays():
    assert get_loss("ppo").required(get_loss("ppo").resolve({})) == ["advantages"]
    assert get_loss("grpo").required(get_loss("grpo").resolve({})) == ["advantages", "ref_logprobs"]
    assert get_loss("value").required(get_loss("value").resolve({})) == ["returns", "old_values"]
    assert get_loss("sft").required(get_loss("sft").resolve({})) == []


def test_null_means_default_or_off():
    a = get_loss("ppo").resolve({"clip_eps": 0.1, "clip_eps_high": None, "dual_clip": None, "kl_coef": None})
    assert a["clip_eps_high"] == 0.1 and a["dual_clip"] is None and a["kl_coef"] == 0.0
    assert get_loss("value").resolve({"clip_eps": None})["clip_eps"] is None  # unclipped value loss


def ref_gspo_loss(a, b, lp):
    """GSPO as a loop: per sequence s = mean over its masked tokens of (log pi - log pi_old) as a plain
    number (no gradient), then per token ratio = exp(min(10, lp_k - sg(lp_k) + s)) in the clipped
    surrogate, plus KL and entropy as in PPO; aggregated like ref_loss."""
    per_seq, t = [], 0
    for n in b["resp_lens"].tolist():
        ks = [k for k in range(t, t + n) if b["mask"][k] > 0]
        s = sum(float(lp[k].detach() - b["old_logprobs"][k]) for k in ks) / max(len(ks), 1)
        terms = []
        for k in ks:
            log_r = torch.clamp(lp[k] - lp[k].detach() + s, max=10.0)
            adv = b["advantages"][k]
            ratio = torch.exp(log_r)
            unclipped, clipped = -adv * ratio, -adv * torch.clamp(ratio, 1 - a["clip_eps"], 1 + a["clip_eps_high"])
            loss = unclipped if unclipped >= clipped else clipped
            if a["kl_coef"] > 0:
                r = b["ref_logprobs"][k] - lp[k]
                loss = loss + a["kl_coef"] * (torch.exp(r) - r - 1)
            terms.append(loss - a["entropy_coef"] * b["entropy"][k])
        per_seq.append(terms)
        t += n
    if a["agg"] == "token-mean":
        all_terms = [x for terms in per_seq for x in terms]
        return sum(all_terms) / len(all_terms)
    seqs = [terms for terms in per_seq if terms]
    if a["agg"] == "seq-mean-token-mean":
        return sum(sum(terms) / len(terms) for terms in seqs) / len(seqs)
    return sum(sum(terms) for terms in seqs) / len(seqs)


@pytest.mark.parametrize("agg", AGGS)
@pytest.mark.parametrize("args", [{}, {"clip_eps": 0.2, "clip_eps_high": 0.28, "kl_coef": 0.1, "entropy_coef": 0.01}])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gspo_matches_per_token_loop(args, agg, seed):
    spec = get_loss("gspo")
    a = spec.resolve({**args, "agg": agg})
    b = make_batch(seed, num_seqs=6)
    b["old_logprobs"] = b["logprobs"] + torch.randn(len(b["mask"]), generator=torch.Generator().manual_seed(seed)) * 0.05
    lp = b["logprobs"].clone().requires_grad_(True)
    inp = LossInputs(mask=b["mask"], logprobs=lp, entropy=b["entropy"], advantages=b["advantages"],
                     old_logprobs=b["old_logprobs"], ref_logprobs=b["ref_logprobs"], resp_lens=b["resp_lens"])
    per_token, metrics = spec.fn(inp, a)
    loss = aggregate(per_token, b["mask"], b["resp_lens"], agg, default_norm(b["mask"], b["resp_lens"], agg))
    loss.backward()
    lp_ref = b["logprobs"].clone().requires_grad_(True)
    expected = ref_gspo_loss(a, b, lp_ref)
    expected.backward()
    assert math.isclose(float(loss.detach()), float(expected.detach()), rel_tol=1e-5, abs_tol=1e-6)
    torch.testing.assert_close(lp.grad, lp_ref.grad, rtol=1e-5, atol=1e-7)
    if not args:  # the paper's 3e-4 / 4e-4 range clips most sequences, but not all
        frac = float((metrics["clip_frac"] * b["mask"]).sum() / b["mask"].sum())
        assert 0.0 < frac < 1.0


def test_gspo_hand_computed():
    """One sequence, token ratios 2 and 1 (a third token masked, ratio e^5): the geometric mean of the
    masked-in ratios is sqrt(2) for every token; clip 0.2 gives -1.2 per token for A = +1 (no gradient),
    and sqrt(2) for A = -1 with gradient sqrt(2)/2 per token (seq-mean-token-mean over 2 tokens)."""
    spec = get_loss("gspo")
    a = spec.resolve({"clip_eps": 0.2, "clip_eps_high": 0.2})
    old = torch.tensor([math.log(0.25), math.log(0.5), math.log(0.5) - 5.0])
    mask = torch.tensor([1.0, 1.0, 0.0])
    for adv, want_loss, want_grad in ((1.0, -1.2, 0.0), (-1.0, math.sqrt(2), math.sqrt(2) / 2)):
        lp = torch.tensor([math.log(0.5)] * 3, requires_grad=True)
        inp = LossInputs(mask=mask, logprobs=lp, advantages=torch.full((3,), adv), old_logprobs=old,
                         resp_lens=torch.tensor([3]))
        per_token, metrics = spec.fn(inp, a)
        loss = aggregate(per_token, mask, torch.tensor([3]), "seq-mean-token-mean", 1.0)
        loss.backward()
        assert math.isclose(float(loss.detach()), want_loss, rel_tol=1e-6)
        torch.testing.assert_close(lp.grad, torch.tensor([want_grad, want_grad, 0.0]))
        torch.testing.assert_close(metrics["ratio_mean"][:2], torch.full((2,), math.sqrt(2)))


def test_gspo_defaults_are_the_papers():
    a = get_loss("gspo").resolve({})
    assert (a["clip_eps"], a["clip_eps_high"], a["agg"]) == (3e-4, 4e-4, "seq-mean-token-mean")
    assert get_loss("gspo").resolve({"clip_eps": 0.1, "clip_eps_high": None})["clip_eps_high"] == 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seq_mean_token_sum_norm_is_verl_formula(seed):
    """verl agg_loss "seq-mean-token-sum-norm" on a padded [B, L] matrix is sum(loss * mask) / L. The
    controller selects it as engine agg seq-mean-token-sum with loss_norm = L (src/rl/loss-aggs.ts); the
    Dr. GRPO constant of loss_norm=constant (B × L with token-mean) is the same up to the factor B."""
    b = make_batch(seed, num_seqs=5)
    L = 12
    loss = torch.randn(len(b["mask"]), generator=torch.Generator().manual_seed(seed))
    padded, pmask, t = torch.zeros(5, L), torch.zeros(5, L), 0
    for i, n in enumerate(b["resp_lens"].tolist()):
        padded[i, :n], pmask[i, :n] = loss[t:t + n], b["mask"][t:t + n]
        t += n
    verl = float(torch.sum(torch.sum(padded * pmask, dim=-1)) / pmask.shape[-1])
    ours = float(aggregate(loss, b["mask"], b["resp_lens"], "seq-mean-token-sum", float(L)))
    assert math.isclose(ours, verl, rel_tol=1e-6, abs_tol=1e-7)
    dr_grpo_constant = float(aggregate(loss, b["mask"], b["resp_lens"], "token-mean", float(5 * L)))
    assert math.isclose(dr_grpo_constant * 5, verl, rel_tol=1e-6, abs_tol=1e-7)
