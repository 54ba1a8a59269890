"""One optimiser step (or one accumulation call) over a mini-batch: micro-batches of whole sequences by
token budget, forward + loss + backward each, then clip and AdamW (see losses.py for `loss_norm`)."""

import time

import torch
from torch import Tensor

from . import dist
from .batch import SeqBatch, segments
from .forward import plan_micro_batches, to_device, token_logprobs, token_values
from .losses import LossInputs, LossSpec, aggregate, default_norm
from .roles import Role

PER_TOKEN = ("advantages", "old_logprobs", "ref_logprobs", "returns", "old_values")


def model_outputs(role: Role, mb: SeqBatch, *, logprobs=False, entropy=False, values=False,
                  temperature=1.0, micro_batch_tokens=None) -> dict[str, Tensor]:
    """Per-response-token outputs of one (micro-)batch, [T] each, differentiable when grad is on.
    The ids stay on the host: the micro-batches are laid out there and sent over once, asynchronously."""
    kw = {} if micro_batch_tokens is None else {"micro_batch_tokens": micro_batch_tokens}
    ids, offsets, prompt_lens = mb.ids, mb.offsets, mb.prompt_lens
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


def plan_step(seq_lens: Tensor, max_tokens: int) -> list[Tensor]:
    """A step's micro-batches, as [b] int64 sequence indices each (in batch order within a micro-batch):
    the sequences sorted by length, longest first, cut by the budget (count × longest <= max_tokens, a
    longer sequence alone). Sorted, the budget is met with the fewest micro-batches and the least
    padding; cut in batch order, one long sequence among short ones forces extra cuts, and on a GPU each
    pass costs ~2,500 kernel launches of host time whatever its size. Every sequence is in one micro-batch."""
    by_length = torch.sort(seq_lens, descending=True, stable=True).indices
    return [by_length[s:e].sort().values for s, e in plan_micro_batches(seq_lens[by_length].tolist(), max_tokens)]


def train_step(role: Role, batch: SeqBatch, tokens: dict[str, Tensor], spec: LossSpec, a: dict, *,
               loss_norm: float | None, temperature: float, micro_batch_tokens: int, step: bool) -> dict:
    """tokens: per-response-token arrays [T] ('mask' and the loss's inputs), on CPU.
    Returns the stats of PROTOCOL.md `train` (metric means over this call's masked tokens).

    On a GPU the step makes no host sync between its first kernel and the optimiser's: everything the
    device needs goes over asynchronously up front (to_device), losses and metrics add up on the device,
    and the host reads them back once, after the update is queued (a sync drains the GPU's queue, which
    then idles while the host launches the next kernels)."""
    t0 = time.perf_counter()
    dev = role.device
    mask_host = tokens["mask"].to(torch.float32)
    if loss_norm is None:
        # the whole call (and, under torchrun, all ranks) shares one denominator
        norm_t = torch.tensor(default_norm(mask_host, batch.resp_lens, a["agg"]), dtype=torch.float64)
        norm = float(dist.all_reduce_sum(norm_t))
    else:
        norm = float(loss_norm)
    norm = norm if norm > 0 else 1.0  # everything masked: the loss is 0 and so is the gradient
    role.model.train()
    need_entropy = spec.needs_entropy(a) or spec.output == "logprobs"  # entropy is cheap next to log-probs
    # Every micro-batch runs forward + backward even if fully masked, and a rank with fewer micro-batches
    # than another repeats its first one with a zero mask: under FSDP all ranks must take part in the
    # same collectives. (At N = 1 the count is this rank's own.)
    groups = plan_step(batch.seq_lens, micro_batch_tokens)
    num_micro = int(dist.all_reduce_max(torch.tensor(len(groups))))
    # per-token arrays in micro-batch order, so that each micro-batch's share is one slice
    resp_lens, resp_starts = batch.resp_lens, batch.resp_offsets[:-1]
    parts = [segments(resp_starts[g], resp_lens[g]) for g in groups]
    bounds = [0]
    for p in parts:
        bounds.append(bounds[-1] + p.numel())
    perm = torch.cat(parts)
    per_token = {"mask": mask_host[perm], **{k: tokens[k][perm].to(torch.float32) for k in PER_TOKEN if k in tokens}}
    per_token = {k: to_device(v, dev) for k, v in per_token.items()}
    group_resp_lens = [to_device(resp_lens[g], dev) for g in groups]
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
    metric_sums: dict[str, Tensor] = {}
    for i in range(num_micro):
        is_pad = i >= len(groups)
        j = 0 if is_pad else i
        mb = batch.select(groups[j])
        r0, r1 = bounds[j], bounds[j + 1]
        out = model_outputs(role, mb, logprobs=spec.output == "logprobs", entropy=need_entropy,
                            values=spec.output == "values", temperature=temperature,
                            micro_batch_tokens=micro_batch_tokens)
        m = torch.zeros_like(per_token["mask"][r0:r1]) if is_pad else per_token["mask"][r0:r1]
        x = LossInputs(mask=m, **out, **{k: per_token[k][r0:r1] for k in PER_TOKEN if k in per_token},
                       resp_lens=group_resp_lens[j])
        per_token_loss, metrics = spec.fn(x, a)
        loss = aggregate(per_token_loss, m, group_resp_lens[j], a["agg"], norm)
        loss.backward()
        loss_sum += loss.detach()
        for k, v in metrics.items():
            metric_sums[k] = metric_sums.get(k, 0.0) + (v.double() * m).sum()
    num_tokens = float(mask_host.sum())
    if step:
        grad_norm, lr = role.optim.step()
    else:
        grad_norm, lr = role.optim.grad_norm(), role.optim.lr
    names = list(metric_sums)
    sums = torch.stack([loss_sum, *(metric_sums[k] for k in names)]).tolist()  # one copy back
    stats = {k: v / max(num_tokens, 1.0) for k, v in zip(names, sums[1:])}
    stats.update(loss=sums[0], grad_norm=grad_norm, lr=lr, num_tokens=int(num_tokens),
                 num_seqs=batch.num_seqs, seconds=time.perf_counter() - t0)
    return stats
