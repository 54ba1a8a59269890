"""Token sampling with counter-based randomness: reproducible per row, independent of the batch.

Sample j of a prompt with seed s draws, at decode step t, one uniform u = hash(key(s, j), t) in (0, 1),
a pure function of (s, j, t) computed on the device for all rows at once (no generator objects, no
per-row Python work), and takes the token where u falls in the row's cumulative distribution
(inverse-CDF sampling over the tempered, top-k / top-p truncated softmax, in vocabulary order, or in
descending-probability order when truncating). So the samples of a prompt depend only on its seed,
the sample index and its logits: not on the other prompts in the batch, their order, compaction, or
how prompts are split across ranks. One uniform per row keeps the sampler to a few passes over the
logits (softmax, cumsum, search), where per-token noise (Gumbel-max) would cost ~20 integer passes."""

import torch

MASK32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9  # 2^32 / golden ratio: a Weyl step that decorrelates consecutive counters


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2^32 for int64 x in [0, 2^32): split c in 16-bit halves so that no product
    overflows int64 (signed overflow is not defined behaviour in the kernels)."""
    lo = x * (c & 0xFFFF)
    hi = ((x * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & MASK32


def mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer finaliser (lowbias32, C. Wellons) on int64 tensors holding uint32 values."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def row_keys(seeds: torch.Tensor, sample_idx: torch.Tensor) -> torch.Tensor:
    """seeds, sample_idx: int64 [R] → one 32-bit key per row (int64 [R]); seeds may use all 64 bits."""
    lo, hi = seeds & MASK32, (seeds >> 32) & MASK32
    key = mix32(lo ^ mix32((hi + GOLDEN) & MASK32))
    return mix32(key ^ mix32((sample_idx * 2 + 1) & MASK32))


def uniform(keys: torch.Tensor, step: int) -> torch.Tensor:
    """keys: int64 [R] → fp32 [R] in (0, 1), a pure function of (key, step)."""
    bits = mix32((mix32(keys ^ ((step * GOLDEN + 0x632BE5AB) & MASK32)) + GOLDEN) & MASK32)  # [R]
    return ((bits >> 9).to(torch.float32) + 0.5) * (1.0 / (1 << 23))  # 23 bits: exact in fp32, never 0 or 1


def _inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """probs: [R, V] (unnormalised, ≥ 0), u: [R] → int64 [R]: first index whose cumulative mass
    exceeds u × total. Zero-probability entries are never chosen (their interval is empty)."""
    cdf = probs.cumsum(-1)  # [R, V]
    idx = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)  # [R, 1]
    return idx.clamp_(max=probs.shape[-1] - 1).squeeze(-1)


def sample(logits: torch.Tensor, keys: torch.Tensor, step: int, *, temperature: float, top_p: float = 1.0, top_k: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """logits: [R, V] (any float dtype); keys: int64 [R] → tokens int64 [R], logprobs fp32 [R].
    The log-prob is under log_softmax(logits / temperature) before truncation (temperature 0 = greedy,
    scored at temperature 1), so it equals a forward pass at the same temperature."""
    z = logits.float()
    if temperature > 0:
        z = z / temperature
    lse = torch.logsumexp(z, dim=-1)  # [R]
    vocab_size = z.shape[-1]
    if temperature <= 0:
        tokens = z.argmax(-1)
    elif not 0 < top_k < vocab_size and top_p >= 1.0:  # nothing to truncate
        tokens = _inverse_cdf(torch.exp(z - lse[:, None]), uniform(keys, step))
    else:
        # truncate in descending order (top-k, then top-p of the renormalised rest, as transformers)
        if 0 < top_k < vocab_size:
            z_sorted, order = torch.topk(z, top_k, dim=-1)  # [R, k], sorted
        else:
            z_sorted, order = torch.sort(z, dim=-1, descending=True, stable=True)  # [R, V]
        probs = torch.softmax(z_sorted, dim=-1)
        if top_p < 1.0:
            mass_before = probs.cumsum(-1) - probs  # mass of strictly more probable tokens
            probs = probs.masked_fill(mass_before >= top_p, 0.0)  # the first token always stays
        tokens = order.gather(-1, _inverse_cdf(probs, uniform(keys, step))[:, None]).squeeze(-1)
    return tokens, z.gather(-1, tokens[:, None]).squeeze(-1) - lse
