"""Per-token log-probs, entropies and values of ragged batches (PROTOCOL.md "Ragged batches"):
response tokens only, back to back in sequence order. Differentiable: the training step backprops
through them. The fp32 logits exist only for `logits_chunk_elems` elements at a time, in forward and
in backward (ChunkedLogprobs recomputes them), never for the whole batch."""

import torch
from torch import nn

from .model.chunked_logprobs import LOGITS_CHUNK_ELEMS, ChunkedLogprobs, chunked_logprobs  # noqa: F401 (re-exported)

FORWARD_ERROR = "forward"


class ForwardError(ValueError):
    pass


def _as_long_tensor(x, name: str) -> torch.Tensor:
    """A 1-D integer array (tensor on any device, numpy array or list) → int64 CPU tensor."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    if t.dim() != 1 or t.is_floating_point() or t.is_complex():
        raise ForwardError(f"{FORWARD_ERROR}: {name} must be a 1-D integer array, got {t.dtype} of shape {tuple(t.shape)}")
    return t.to("cpu", torch.long)


def plan_micro_batches(lengths: list[int], max_tokens: int) -> list[tuple[int, int]]:
    """Consecutive sequences [start, end) whose padded size (count × longest) fits `max_tokens`; a
    longer sequence goes alone. Order is kept, so outputs concatenate in sequence order."""
    batches, start, longest = [], 0, 0
    for b, n in enumerate(lengths):
        if b > start and max(longest, n) * (b - start + 1) > max_tokens:
            batches.append((start, b))
            start, longest = b, 0
        longest = max(longest, n)
    if lengths:
        batches.append((start, len(lengths)))
    return batches


# Fixed cost of one more micro-batch (a forward + backward pass of every layer, the Python around it),
# in padded tokens of compute: measured on CPU with the 0.8M-parameter demo model (bench/engine_train.py).
# On CUDA a pass of a small batch costs mostly kernel launches, so it keeps the budget's cut only.
MICRO_BATCH_OVERHEAD_TOKENS = {"cpu": 64}


def plan_sorted_micro_batches(lengths: list[int], max_tokens: int, device: torch.device) -> list[tuple[int, int]]:
    """`plan_micro_batches` of lengths sorted longest first, each micro-batch cut further where less
    padding pays for one more pass (CPU: compute scales with padded tokens). Minimises, by dynamic
    programming over the cuts between distinct lengths, Σ (count × longest + overhead) per micro-batch.
    Sequences never interact (right padding, causal attention), so the cut changes no output beyond
    floating-point rounding."""
    overhead = MICRO_BATCH_OVERHEAD_TOKENS.get(device.type)
    plan = plan_micro_batches(lengths, max_tokens)
    if overhead is None:
        return plan
    out = []
    for start, end in plan:
        # cut candidates: where the length drops (cutting inside a run of equal lengths never pays)
        cuts = [start] + [b for b in range(start + 1, end) if lengths[b] != lengths[b - 1]] + [end]
        best = [0.0] + [float("inf")] * (len(cuts) - 1)  # best[j]: cost of sequences [start, cuts[j])
        prev = [0] * len(cuts)
        for j in range(1, len(cuts)):
            for i in range(j):  # micro-batch [cuts[i], cuts[j]) has longest lengths[cuts[i]]
                cost = best[i] + (cuts[j] - cuts[i]) * lengths[cuts[i]] + overhead
                if cost < best[j]:
                    best[j], prev[j] = cost, i
        j, parts = len(cuts) - 1, []
        while j > 0:
            parts.append((cuts[prev[j]], cuts[j]))
            j = prev[j]
        out.extend(reversed(parts))
    return out


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor onto `device` without a host sync: on CUDA through pinned memory and an async copy
    (a plain `.to("cuda")` of pageable memory synchronises the stream, so the GPU drains its queue and
    waits for the CPU to refill it)."""
    if t.device == device:
        return t
    if device.type == "cuda" and t.device.type == "cpu":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def logits_chunk_elems_for(device: torch.device) -> int:
    """fp32 logits alive at once in the chunked log-prob pass: LOGITS_CHUNK_ELEMS, or on a GPU 1/128 of
    its memory if that is more (80 GB: ~1,000 rows of a 152k vocabulary instead of 441): fewer chunks
    mean fewer kernel launches and fewer passes over the [V, H] weight gradient. Each row's log-prob is
    computed alone, so the size changes outputs by rounding only."""
    if device.type != "cuda":
        return LOGITS_CHUNK_ELEMS
    total = torch.cuda.get_device_properties(device).total_memory
    return max(LOGITS_CHUNK_ELEMS, total // 128 // 4)


def _micro_batches(ids, offsets, prompt_lens, micro_batch_tokens: int, device: torch.device):
    """Sequences sorted by length (longest first: less padding, and an out-of-memory shows at once),
    cut into micro-batches of at most `micro_batch_tokens` padded tokens. Returns (micro-batches, order)
    where each micro-batch is (ids [b, T] right-padded, rows [n] flat index of the position that
    predicts each response token, targets [n]), and `order` [N_resp] maps output k (sequence order,
    PROTOCOL.md layout) to its row in the concatenated micro-batch outputs."""
    flat, offsets, prompt_lens = _as_long_tensor(ids, "ids"), _as_long_tensor(offsets, "offsets"), _as_long_tensor(prompt_lens, "prompt_lens")
    num_seqs = offsets.numel() - 1
    if num_seqs < 0 or offsets[0] != 0 or offsets[-1] != flat.numel() or bool((offsets[1:] < offsets[:-1]).any()):
        raise ForwardError(f"{FORWARD_ERROR}: offsets must start at 0, never decrease and end at len(ids) = {flat.numel()}")
    if prompt_lens.numel() != num_seqs:
        raise ForwardError(f"{FORWARD_ERROR}: prompt_lens has {prompt_lens.numel()} entries for {num_seqs} sequences")
    lengths = offsets[1:] - offsets[:-1]  # [S]
    bad = ((prompt_lens < 1) | (prompt_lens > lengths)).nonzero()
    if bad.numel():
        b = int(bad[0])
        raise ForwardError(f"{FORWARD_ERROR}: sequence {b}: prompt_lens {int(prompt_lens[b])} must be in [1, length {int(lengths[b])}]")
    resp_offsets = torch.cat([torch.zeros(1, dtype=torch.long), (lengths - prompt_lens).cumsum(0)])  # [S + 1]
    by_length = torch.sort(lengths, descending=True, stable=True).indices  # [S]
    micro_batches, dest = [], []  # dest: output position of each processed response token
    for start, end in plan_sorted_micro_batches(lengths[by_length].tolist(), micro_batch_tokens, device):
        seqs = by_length[start:end]  # [b]
        L, P, O = lengths[seqs, None], prompt_lens[seqs, None], offsets[seqs, None]  # [b, 1]
        cols = torch.arange(int(L.max()))[None, :]  # [1, T]
        is_token = cols < L  # [b, T]
        batch = torch.where(is_token, flat[(O + cols).clamp(max=max(flat.numel() - 1, 0))], 0)  # [b, T] right-padded with 0
        predicts = (cols >= P - 1) & (cols < L - 1)  # position k-1 predicts response token k
        rows = predicts.reshape(-1).nonzero().squeeze(1)  # [n] row-major: sequence by sequence
        targets = batch.reshape(-1)[rows + 1]
        dest.append((resp_offsets[seqs, None] + cols - (P - 1))[predicts])
        micro_batches.append((to_device(batch, device), to_device(rows, device), to_device(targets, device)))
    num_resp = int(resp_offsets[-1])
    order = torch.empty(num_resp, dtype=torch.long)
    if dest:
        order[torch.cat(dest)] = torch.arange(num_resp)
    return micro_batches, to_device(order, device)


# The model gets no position_ids: right padding means plain causal positions 0..T-1, which the model
# builds itself without the host sync that finding the largest of given positions costs.


def token_logprobs(model: nn.Module, ids, offsets, prompt_lens, *, temperature: float = 1.0, with_entropy: bool = False, micro_batch_tokens: int = 8192, logits_chunk_elems: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """→ logprobs [N_resp] fp32 (and entropy [N_resp] when asked) of each response token under
    log_softmax(logits / temperature). Grad flows when grad mode is on. ids, offsets, prompt_lens are
    best passed on the CPU (they are read there; device tensors cost a copy back and a sync)."""
    device = next(model.parameters()).device
    if logits_chunk_elems is None:
        logits_chunk_elems = logits_chunk_elems_for(device)
    micro_batches, order = _micro_batches(ids, offsets, prompt_lens, micro_batch_tokens, device)
    logprob_parts, entropy_parts = [], []
    for batch, rows, targets in micro_batches:
        # through the model's own __call__, so that wrappers' hooks (FSDP unsharding lm_head) run
        lp, ent = model(batch, logprobs_of=(rows, targets), temperature=temperature, logits_chunk_elems=logits_chunk_elems)
        logprob_parts.append(lp)
        entropy_parts.append(ent)
    if not logprob_parts:
        empty = torch.zeros(0, dtype=torch.float32, device=device)
        return empty, (empty if with_entropy else None)
    logprobs = torch.cat(logprob_parts)[order]  # back to sequence order
    entropy = torch.cat(entropy_parts)[order] if with_entropy else None
    return logprobs, entropy


def token_values(critic: nn.Module, ids, offsets, prompt_lens, *, micro_batch_tokens: int = 8192) -> torch.Tensor:
    """→ values [N_resp] fp32: the critic's value of the state before each response token (its head
    on the hidden state at the previous position). Grad flows when grad mode is on."""
    device = next(critic.parameters()).device
    micro_batches, order = _micro_batches(ids, offsets, prompt_lens, micro_batch_tokens, device)
    parts = []
    for batch, rows, _ in micro_batches:
        parts.append(critic(batch, rows=rows).float())  # [n]
    return torch.cat(parts)[order] if parts else torch.zeros(0, dtype=torch.float32, device=device)
