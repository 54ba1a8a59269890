"""One optimiser step (or one accumulation call) over a mini-batch: micro-batches of whole sequences by
token budget, forward + loss + backward each, then clip and AdamW (see losses.py for `loss_norm`)."""

import time

import torch
from torch import Tensor

from . import dist
from .batch import SeqBatch
from .forward import plan_micro_batches, token_logprobs, token_values
from .losses import LossInputs, LossSpec, aggregate, default_norm
from .roles import Role

PER_TOKEN = ("advantages", "old_logprobs", "ref_logprobs", "returns", "old_values")


def model_outputs(role: Role, mb: SeqBatch, *, logprobs=False, entropy=False, values=False,
                  temperature=1.0, micro_batch_tokens=None) -> dict[str, Tensor]:
    """Per-response-token outputs of one (micro-)batch, [T] each, differentiable when grad is on."""
    kw = {} if micro_batch_tokens is None else {"micro_batch_tokens": micro_batch_tokens}
    dev = role.device
    ids, offsets, prompt_lens = mb.ids.to(dev), mb.offsets.to(dev), mb.prompt_lens.to(dev)
    out = {}
    with role.autocast():
        if logprobs or entropy:
            lp, ent = token_logprobs(role.model, ids, offsets, prompt_lens, temperature=temperature,
                                     with_entropy=entropy, **kw)
            out["logprobs"] = lp.float()
            if entropy:
                out["entropy"] = ent.float()
        if values:
            out["values"] = token_values(role.model, ids, offsets, prompt_lens, **kw).float()
    return out


def train_step(role: Role, batch: SeqBatch, tokens: dict[str, Tensor], spec: LossSpec, a: dict, *,
               loss_norm: float | None, temperature: float, micro_batch_tokens: int, step: bool) -> dict:
    """tokens: per-response-token arrays [T] ('mask' and the loss's inputs), on CPU.
    Returns the stats of PROTOCOL.md `train` (metric means over this call's masked tokens)."""
    t0 = time.perf_counter()
    dev = role.device
    mask = tokens["mask"].to(dev, torch.float32)
    if loss_norm is None:
        # the whole call (and, under torchrun, all ranks) shares one denominator
        norm_t = torch.tensor(default_norm(mask, batch.resp_lens.to(dev), a["agg"]), dtype=torch.float64)
        norm = float(dist.all_reduce_sum(norm_t))
    else:
        norm = float(loss_norm)
    norm = norm if norm > 0 else 1.0  # everything masked: the loss is 0 and so is the gradient
    role.model.train()
    resp_off = batch.resp_offsets.tolist()
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
    metric_sums: dict[str, Tensor] = {}
    need_entropy = spec.needs_entropy(a) or spec.output == "logprobs"  # entropy is cheap next to log-probs
    # Every micro-batch runs forward + backward even if fully masked, and a rank with fewer micro-batches
    # than another repeats its first one with a zero mask: under FSDP all ranks must take part in the
    # same collectives. (At N = 1 the count is this rank's own.)
    plan = plan_micro_batches(batch.seq_lens.tolist(), micro_batch_tokens)
    num_micro = int(dist.all_reduce_max(torch.tensor(len(plan))))
    for i in range(num_micro):
        is_pad = i >= len(plan)
        b0, b1 = plan[0] if is_pad else plan[i]
        mb = batch.slice(b0, b1)
        r0, r1 = resp_off[b0], resp_off[b1]
        out = model_outputs(role, mb, logprobs=spec.output == "logprobs", entropy=need_entropy,
                            values=spec.output == "values", temperature=temperature,
                            micro_batch_tokens=micro_batch_tokens)
        m = torch.zeros_like(mask[r0:r1]) if is_pad else mask[r0:r1]
        x = LossInputs(mask=m, **out, **{k: tokens[k][r0:r1].to(dev, torch.float32) for k in PER_TOKEN if k in tokens})
        per_token, metrics = spec.fn(x, a)
        loss = aggregate(per_token, m, mb.resp_lens.to(dev), a["agg"], norm)
        loss.backward()
        loss_sum += loss.detach()
        for k, v in metrics.items():
            metric_sums[k] = metric_sums.get(k, 0.0) + (v.double() * m).sum()
    num_tokens = float(mask.sum())
    stats = {k: float(v) / max(num_tokens, 1.0) for k, v in metric_sums.items()}
    if step:
        grad_norm, lr = role.optim.step()
    else:
        grad_norm, lr = role.optim.grad_norm(), role.optim.lr
    stats.update(loss=float(loss_sum), grad_norm=grad_norm, lr=lr, num_tokens=int(num_tokens),
                 num_seqs=batch.num_seqs, seconds=time.perf_counter() - t0)
    return stats
