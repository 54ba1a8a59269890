"""Losses by name over flat per-token tensors (response tokens only, see PROTOCOL.md "Ragged batches").

A loss returns the loss of every token and per-token metrics; `aggregate` turns per-token losses
into the scalar that is back-propagated, with a denominator fixed for the whole optimiser step
(`loss_norm`) so that splitting a batch into micro-batches, calls or ranks does not change the update.
Registry in the manner of verl `core_algos.py`: an unknown name fails with the list of valid names.
"""

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from .errors import BadRequest

AGGS = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")
KL_ESTIMATORS = ("k1", "k2", "k3")
MAX_LOG_RATIO = 20.0  # exp() of a larger log-ratio overflows fp32 long before it means anything


@dataclass
class LossInputs:
    """One micro-batch, all [T] over its response tokens (T = sum of response lengths)."""

    mask: Tensor  # [T] float 0/1
    logprobs: Tensor | None = None  # [T] log p_theta(token), differentiable
    entropy: Tensor | None = None  # [T] entropy of the same distribution, differentiable
    values: Tensor | None = None  # [T] critic V(s_t), differentiable
    advantages: Tensor | None = None
    old_logprobs: Tensor | None = None  # behaviour policy
    ref_logprobs: Tensor | None = None
    returns: Tensor | None = None
    old_values: Tensor | None = None
    resp_lens: Tensor | None = None  # [B] response lengths of the micro-batch (sequence-level losses)


LossFn = Callable[[LossInputs, dict], tuple[Tensor, dict[str, Tensor]]]


@dataclass(frozen=True)
class LossSpec:
    name: str
    fn: LossFn
    defaults: dict
    output: str  # "logprobs" (actor losses) or "values" (critic)
    doc: str = ""
    choices: dict = field(default_factory=dict)
    nullable: frozenset = frozenset()  # keys where null means "off" rather than "default"

    def resolve(self, loss_args: dict | None) -> dict:
        """Defaults merged with the request's `loss_args`; unknown keys and bad values are BadRequest."""
        loss_args = dict(loss_args or {})
        unknown = sorted(set(loss_args) - set(self.defaults))
        if unknown:
            raise BadRequest(
                f"loss_args.{unknown[0]}: unknown for loss {self.name!r}; valid: {', '.join(sorted(self.defaults))}"
            )
        # null keeps its meaning for nullable keys (off / same as clip_eps) and is the default elsewhere
        a = {**self.defaults, **{k: v for k, v in loss_args.items() if v is not None or k in self.nullable}}
        if self.name in ("ppo", "grpo", "gspo") and a["clip_eps_high"] is None:
            a["clip_eps_high"] = a["clip_eps"]
        for k, v in a.items():
            if k in self.choices:
                if v not in self.choices[k]:
                    raise BadRequest(f"loss_args.{k}: {v!r} is not one of {', '.join(self.choices[k])}")
            elif v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise BadRequest(f"loss_args.{k}: expected a number, got {v!r}")
        if a.get("dual_clip") is not None and a["dual_clip"] <= 1.0:
            raise BadRequest(f"loss_args.dual_clip: must be > 1 (e.g. 3.0), got {a['dual_clip']}")
        return a

    def required(self, a: dict) -> list[str]:
        """Names of the per-token arrays this loss needs with these args."""
        if self.output == "values":
            return ["returns"] + (["old_values"] if a.get("clip_eps") is not None else [])
        if self.name == "sft":
            return []
        return ["advantages"] + (["ref_logprobs"] if a["kl_coef"] > 0 else [])

    def needs_entropy(self, a: dict) -> bool:
        return a.get("entropy_coef", 0.0) > 0


LOSSES: dict[str, LossSpec] = {}


def register_loss(name: str, defaults: dict, output: str = "logprobs", choices: dict | None = None,
                  nullable: tuple = ()):
    def wrap(fn: LossFn) -> LossFn:
        LOSSES[name] = LossSpec(name, fn, defaults, output, fn.__doc__ or "", choices or {}, frozenset(nullable))
        return fn

    return wrap


def get_loss(name) -> LossSpec:
    if name not in LOSSES:
        raise BadRequest(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
    return LOSSES[name]


def kl_penalty(logprobs: Tensor, ref_logprobs: Tensor, estimator: str) -> Tensor:
    """Per-token estimate of KL(pi || pi_ref) from samples of pi (J. Schulman, "Approximating KL
    divergence", 2020). r = log pi_ref - log pi. k1 = -r (unbiased, high variance); k2 = r^2 / 2;
    k3 = exp(r) - r - 1 (unbiased, >= 0, low variance; verl "low_var_kl")."""
    r = (ref_logprobs - logprobs).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
    if estimator == "k1":
        return -r
    if estimator == "k2":
        return 0.5 * r * r
    if estimator == "k3":
        return torch.exp(r) - r - 1.0
    raise BadRequest(f"unknown kl_estimator {estimator!r}; valid: {', '.join(KL_ESTIMATORS)}")


def _token_log_ratio(x: LossInputs, a: dict) -> Tensor:
    """PPO's per-token log importance ratio log pi_theta - log pi_old (on-policy without old_logprobs)."""
    old = x.old_logprobs if x.old_logprobs is not None else x.logprobs.detach()
    return (x.logprobs - old).clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)


def _sequence_log_ratio(x: LossInputs, a: dict) -> Tensor:
    """GSPO (Zheng et al. 2025, arXiv:2507.18071) per token: the sequence's length-normalised log ratio
    s_b = (1/|y_b|) sum_t m_t (log pi_theta - log pi_old), i.e. the log of the geometric mean of the token
    ratios over the masked tokens. Each token carries the value s_b and its own log-prob's gradient:
    log s_bt = sg[s_b] + log pi - sg[log pi] (the paper's GSPO-token form, as verl's
    compute_policy_loss_gspo; with equal advantages in a sequence it is GSPO). Clamped above at 10 as verl.
    Uses `resp_lens` to find each token's sequence."""
    old = x.old_logprobs if x.old_logprobs is not None else x.logprobs.detach()
    diff = (x.logprobs - old) * x.mask
    idx = seq_index(x.resp_lens, diff.numel())
    num = len(x.resp_lens)
    per_seq = torch.zeros(num, dtype=diff.dtype, device=diff.device).index_add(0, idx, diff.detach())
    count = torch.zeros(num, dtype=x.mask.dtype, device=x.mask.device).index_add(0, idx, x.mask)
    seq_log = (per_seq / count.clamp(min=1.0))[idx]
    return (x.logprobs - x.logprobs.detach() + seq_log).clamp(max=10.0)


def _clipped_surrogate(x: LossInputs, a: dict, log_ratio: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """Clipped surrogate (PPO, Schulman et al. 2017, arXiv:1707.06347), per token:
        rho = exp(log_ratio)
        l = max(-A rho, -A clip(rho, 1 - eps, 1 + eps_high))            (eps_high: DAPO clip-higher)
        l = min(l, -A c) where A < 0 (dual clip, Ye et al. 2019, arXiv:1912.09729; c = dual_clip > 1)
        l += kl_coef * KL_est(pi || pi_ref) - entropy_coef * H"""
    logp = x.logprobs
    ratio = torch.exp(log_ratio)
    adv = x.advantages
    pg1 = -adv * ratio
    pg2 = -adv * ratio.clamp(1.0 - a["clip_eps"], 1.0 + a["clip_eps_high"])
    pg = torch.maximum(pg1, pg2)
    metrics = {"pg_loss": None, "clip_frac": (pg2 > pg1).float(), "ratio_mean": ratio.detach()}
    if a.get("dual_clip") is not None:
        pg = torch.where(adv < 0, torch.minimum(pg, -adv * a["dual_clip"]), pg)
    metrics["pg_loss"] = pg.detach()
    loss = pg
    if a["kl_coef"] > 0:
        kl = kl_penalty(logp, x.ref_logprobs, a["kl_estimator"])
        loss = loss + a["kl_coef"] * kl
        metrics["kl"] = kl.detach()
    if x.entropy is not None:
        if a["entropy_coef"] > 0:
            loss = loss - a["entropy_coef"] * x.entropy
        metrics["entropy"] = x.entropy.detach()
    return loss, metrics


def _policy_loss(x: LossInputs, a: dict) -> tuple[Tensor, dict[str, Tensor]]:
    """PPO / GRPO: the clipped surrogate over per-token ratios rho = exp(logp - logp_old). Without
    `old_logprobs` the batch is treated as on-policy (rho = 1, gradient of A log pi)."""
    return _clipped_surrogate(x, a, _token_log_ratio(x, a))


def gspo_loss(x: LossInputs, a: dict) -> tuple[Tensor, dict[str, Tensor]]:
    """GSPO: the clipped surrogate over the sequence-level ratio of `_sequence_log_ratio`, with its own
    (much smaller) clip range: the paper uses eps = 3e-4, eps_high = 4e-4."""
    return _clipped_surrogate(x, a, _sequence_log_ratio(x, a))


_POLICY_CHOICES = {"kl_estimator": KL_ESTIMATORS, "agg": AGGS}
register_loss(
    "ppo",
    {"clip_eps": 0.2, "clip_eps_high": None, "dual_clip": None, "kl_coef": 0.0, "kl_estimator": "k1",
     "entropy_coef": 0.0, "agg": "token-mean"},
    choices=_POLICY_CHOICES,
    nullable=("clip_eps_high", "dual_clip"),
)(_policy_loss)
# GRPO (Shao et al. 2024, arXiv:2402.03300): the same surrogate, group-normalised advantages come from
# the controller; KL in the loss with k3 as in DeepSeekMath and verl's SimpleRL-Zoo runs.
register_loss(
    "grpo",
    {"clip_eps": 0.2, "clip_eps_high": None, "dual_clip": None, "kl_coef": 0.001, "kl_estimator": "k3",
     "entropy_coef": 0.0, "agg": "token-mean"},
    choices=_POLICY_CHOICES,
    nullable=("clip_eps_high", "dual_clip"),
)(_policy_loss)
register_loss(
    "gspo",
    {"clip_eps": 3e-4, "clip_eps_high": 4e-4, "kl_coef": 0.0, "kl_estimator": "k3", "entropy_coef": 0.0,
     "agg": "seq-mean-token-mean"},
    choices=_POLICY_CHOICES,
    nullable=("clip_eps_high",),
)(gspo_loss)


@register_loss("sft", {"agg": "token-mean"}, choices={"agg": AGGS})
def sft_loss(x: LossInputs, a: dict) -> tuple[Tensor, dict[str, Tensor]]:
    """Masked negative log-likelihood of the response tokens: l = -log p_theta(token)."""
    nll = -x.logprobs
    metrics = {"nll": nll.detach()}
    if x.entropy is not None:
        metrics["entropy"] = x.entropy.detach()
    return nll, metrics


@register_loss("value", {"clip_eps": 0.2, "agg": "token-mean"}, output="values", choices={"agg": AGGS},
               nullable=("clip_eps",))
def value_loss(x: LossInputs, a: dict) -> tuple[Tensor, dict[str, Tensor]]:
    """Clipped value loss (PPO2 / OpenRLHF): V_clip = V_old + clip(V - V_old, -eps, eps),
    l = 0.5 max((V - R)^2, (V_clip - R)^2); without clip_eps (null) l = 0.5 (V - R)^2."""
    v, ret = x.values, x.returns
    l1 = (v - ret) ** 2
    if a["clip_eps"] is None:
        loss = 0.5 * l1
        return loss, {"vf_loss": loss.detach(), "vf_clip_frac": torch.zeros_like(loss)}
    v_clip = x.old_values + (v - x.old_values).clamp(-a["clip_eps"], a["clip_eps"])
    l2 = (v_clip - ret) ** 2
    loss = 0.5 * torch.maximum(l1, l2)
    return loss, {"vf_loss": loss.detach(), "vf_clip_frac": (l2 > l1).float()}


def seq_index(resp_lens: Tensor, total: int | None = None) -> Tensor:
    """[B] response lengths -> [T] index of the sequence each response token belongs to. `total` (= T,
    when known) spares a GPU the host sync of finding the output's size."""
    return torch.repeat_interleave(torch.arange(len(resp_lens), device=resp_lens.device), resp_lens, output_size=total)


def default_norm(mask: Tensor, resp_lens: Tensor, agg: str) -> float:
    """The aggregation's denominator for a whole step: masked tokens for token-mean, sequences with at
    least one masked token for the seq-mean variants."""
    if agg == "token-mean":
        return float(mask.sum())
    per_seq = torch.zeros(len(resp_lens), dtype=mask.dtype, device=mask.device)
    per_seq.index_add_(0, seq_index(resp_lens), mask)
    return float((per_seq > 0).sum())


def aggregate(loss: Tensor, mask: Tensor, resp_lens: Tensor, agg: str, norm: float) -> Tensor:
    """loss, mask: [T]; resp_lens: [B] (whole sequences, sum = T). Returns
    token-mean:          sum_t m_t l_t / norm
    seq-mean-token-mean: sum_b (sum_t m_t l_t / sum_t m_t) / norm
    seq-mean-token-sum:  sum_b sum_t m_t l_t / norm"""
    masked = loss * mask
    if agg == "token-mean":
        return masked.sum() / norm
    idx = seq_index(resp_lens, loss.numel())
    per_seq = torch.zeros(len(resp_lens), dtype=loss.dtype, device=loss.device).index_add(0, idx, masked)
    if agg == "seq-mean-token-mean":
        count = torch.zeros(len(resp_lens), dtype=mask.dtype, device=mask.device).index_add(0, idx, mask)
        per_seq = per_seq / count.clamp(min=1.0)
    elif agg != "seq-mean-token-sum":
        raise BadRequest(f"unknown agg {agg!r}; valid: {', '.join(AGGS)}")
    return per_seq.sum() / norm
