"""Batched generation: one prefill per prompt (its KV copied to its n samples), then lock-step decode
of all P·n rows over a static KV cache allocated once. Finished rows keep their slot until half the
batch is done, then the batch is compacted (cache rows gathered), so finished rows stop costing. One
host sync per decode step (the count of unfinished rows). Sampling is counter-based (sampling.py), so
prompts can be split into waves (when the cache would not fit) or across ranks without changing a
single sample."""

import time
from dataclasses import dataclass

import torch
from torch import nn

from .model.kv_cache import KVCache
from .model.masks import padded_causal_mask, positions_from_padding
from .sampling import row_keys, sample

GENERATE_ERROR = "generate"  # prefix of every error message raised here
COMPACT_WHEN_ACTIVE_BELOW = 0.5  # compact once fewer than this share of the rows is unfinished
CUDA_CACHE_SHARE_OF_FREE = 0.5  # default KV budget on CUDA: this share of free memory (the rest: logits, activations)
CPU_CACHE_BYTES = 4 << 30  # default KV budget elsewhere


class GenerateError(ValueError):
    pass


@dataclass
class GenerateOutput:
    """P·n rows, prompt-major (prompt 0 samples 0..n-1, prompt 1, ...), flat as on the wire
    (PROTOCOL.md generate): row r is ids[offsets[r]:offsets[r+1]], the stop token included."""

    ids: torch.Tensor  # int32 [N] on the CPU
    offsets: torch.Tensor  # int32 [P·n + 1]
    logprobs_flat: torch.Tensor  # fp32 [N]: log_softmax(logits / T)[token], T = 0 scored as 1
    finish: list[str]  # "stop" | "length" per row
    num_tokens: int  # N
    seconds: float
    num_waves: int = 1  # cache-sized groups of prompts generated one after the other

    @property
    def tokens(self) -> list[list[int]]:
        return [row.tolist() for row in torch.split(self.ids, self.lengths)]

    @property
    def logprobs(self) -> list[list[float]]:
        return [row.tolist() for row in torch.split(self.logprobs_flat, self.lengths)]

    @property
    def lengths(self) -> list[int]:
        return (self.offsets[1:] - self.offsets[:-1]).tolist()


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise GenerateError(f"{GENERATE_ERROR}: {msg}")


def _left_pad(prompts: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """→ ids int64 [P, T0] (padding id 0), is_token bool [P, T0]."""
    T0 = max(len(p) for p in prompts)
    ids = torch.zeros(len(prompts), T0, dtype=torch.long)
    for b, p in enumerate(prompts):
        ids[b, T0 - len(p) :] = torch.tensor(p, dtype=torch.long)
    lengths = torch.tensor([len(p) for p in prompts])
    is_token = torch.arange(T0)[None, :] >= (T0 - lengths)[:, None]
    return ids.to(device), is_token.to(device)


def prompts_per_wave(*, num_layers: int, num_kv_heads: int, head_dim: int, seq_len: int, item_bytes: int, n: int,
                     budget_bytes: int, max_rows_per_wave: int | None = None) -> int:
    """Prompts generated together: as many as the KV budget holds at full length `seq_len` (longest
    prompt + max_new_tokens), at most max_rows_per_wave // n, at least one. The planner
    (src/plan/memory.ts enginePromptsPerWave) sizes waves the same way; tests/fixtures/generation-waves.json
    pins both."""
    row_bytes = 2 * num_layers * num_kv_heads * head_dim * seq_len * item_bytes
    fit = budget_bytes // (row_bytes * n)
    if max_rows_per_wave is not None:
        fit = min(fit, max_rows_per_wave // n)
    return max(1, fit)


def _kv_budget(device: torch.device, max_kv_cache_bytes: int | None) -> int:
    if max_kv_cache_bytes is not None:
        return max_kv_cache_bytes
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * CUDA_CACHE_SHARE_OF_FREE)
    return CPU_CACHE_BYTES


@dataclass
class _Sampling:
    n: int
    temperature: float
    top_p: float
    top_k: int
    max_new_tokens: int
    stop_ids: torch.Tensor  # int64 [num_stop] on the device
    max_prefill_tokens: int


def _prefill(model, cache: KVCache, prompt_ids, prompt_is_token, n: int, max_prefill_tokens: int) -> torch.Tensor:
    """Fills the cache rows of every sample; → fp32 logits of the next token per prompt [P, V]."""
    num_prompts, T0 = prompt_ids.shape
    logits = torch.empty(num_prompts, model.config.vocab_size, dtype=torch.float32, device=prompt_ids.device)
    lengths = prompt_is_token.sum(1).tolist()  # prompts come longest first (generate sorts them)
    p0 = 0
    while p0 < num_prompts:
        Tc = lengths[p0]  # this chunk's longest prompt: it skips the padding slots [0, T0 - Tc)
        p1 = min(num_prompts, p0 + max(1, max_prefill_tokens // Tc))
        ids, is_token = prompt_ids[p0:p1, T0 - Tc :], prompt_is_token[p0:p1, T0 - Tc :]  # [c, Tc]
        cache.begin_prefill(p0 * n, p1 * n, n, slot_start=T0 - Tc)
        hidden = model.model(ids, positions_from_padding(is_token), padded_causal_mask(is_token), cache, max_position=Tc - 1)
        logits[p0:p1] = model.lm_head(hidden[:, -1]).float()  # left padding: the last slot is the last token
        p0 = p1
    return logits


def _generate_wave(model, prompts: list[list[int]], seeds: list[int], s: _Sampling, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """→ tokens int64 [R, N], logprobs fp32 [R, N], lengths int64 [R] for R = len(prompts)·n rows."""
    cfg, n, max_new = model.config, s.n, s.max_new_tokens
    device = s.stop_ids.device
    num_rows = len(prompts) * n
    prompt_ids, prompt_is_token = _left_pad(prompts, device)  # [P, T0]
    T0 = prompt_ids.shape[1]
    cache = KVCache(cfg.num_hidden_layers, num_rows, cfg.num_key_value_heads, T0 + max_new, cfg.head_dim, dtype=dtype, device=device)
    logits = _prefill(model, cache, prompt_ids, prompt_is_token, n, s.max_prefill_tokens).repeat_interleave(n, 0)  # [R, V]

    # per-row state in the current (compacted) batch layout
    row_ids = torch.arange(num_rows, device=device)  # original row of each current row
    keys = row_keys(torch.tensor(seeds, dtype=torch.long, device=device).repeat_interleave(n), torch.arange(n, device=device).repeat(len(prompts)))
    first_pos = prompt_is_token.sum(1).repeat_interleave(n)  # [R] position of the first new token
    key_valid = torch.cat([prompt_is_token.repeat_interleave(n, 0), torch.ones(num_rows, max_new, dtype=torch.bool, device=device)], 1)  # [R, S]
    is_done = torch.zeros(num_rows, dtype=torch.bool, device=device)
    num_generated = torch.full((num_rows,), max_new, dtype=torch.long, device=device)
    out_tokens = torch.zeros(num_rows, max_new, dtype=torch.long, device=device)  # [R, N]
    out_logprobs = torch.zeros(num_rows, max_new, dtype=torch.float32, device=device)
    final = (out_tokens.clone(), out_logprobs.clone(), num_generated.clone())  # original row layout

    def flush() -> None:  # current rows' results → original layout
        final[0][row_ids], final[1][row_ids], final[2][row_ids] = out_tokens, out_logprobs, num_generated

    longest = int(first_pos.max())
    for step in range(max_new):
        tokens, logprobs = sample(logits, keys, step, temperature=s.temperature, top_p=s.top_p, top_k=s.top_k)  # [B]
        out_tokens[:, step], out_logprobs[:, step] = tokens, logprobs
        if step == max_new - 1:
            break
        if s.stop_ids.numel():  # without stop ids no row ends early: no sync at all
            is_stop = torch.isin(tokens, s.stop_ids) & ~is_done
            num_generated = torch.where(is_stop, step + 1, num_generated)
            is_done = is_done | is_stop
            num_active = int((~is_done).sum())  # the one host sync of the step
            if num_active == 0:
                break
            if num_active < COMPACT_WHEN_ACTIVE_BELOW * is_done.numel():
                flush()
                keep = (~is_done).nonzero().squeeze(1)  # [B']
                cache.keep_rows(keep)
                row_ids, keys, first_pos, key_valid, tokens = row_ids[keep], keys[keep], first_pos[keep], key_valid[keep], tokens[keep]
                is_done, num_generated, out_tokens, out_logprobs = is_done[keep], num_generated[keep], out_tokens[keep], out_logprobs[keep]
        # decode: every current row feeds its new token at slot T0 + step
        slot = T0 + step
        cache.begin_decode(slot)
        hidden = model.model(tokens[:, None], (first_pos + step)[:, None], key_valid[:, None, None, : slot + 1], cache, max_position=longest + step)
        logits = model.lm_head(hidden[:, 0]).float()  # [B, V]
    flush()
    return final


def _unsort_rows(ids: torch.Tensor, logprobs: torch.Tensor, lengths: torch.Tensor, by_length: list[int], n: int):
    """Rows of flat outputs in sorted-prompt order → original prompt order (prompt-major, n rows each)."""
    order = torch.empty(len(by_length), dtype=torch.long)
    order[torch.tensor(by_length)] = torch.arange(len(by_length))  # sorted position of each prompt
    rows = (order[:, None] * n + torch.arange(n)[None, :]).reshape(-1)  # [R] sorted row of each output row
    starts = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)[:-1]])
    new_lengths = lengths[rows]
    # flat index of every output token: its row's start in the sorted layout + its index in the row
    token_row = torch.repeat_interleave(torch.arange(len(rows)), new_lengths)
    within = torch.arange(int(new_lengths.sum())) - torch.repeat_interleave(new_lengths.cumsum(0) - new_lengths, new_lengths)
    index = starts[rows][token_row] + within
    return ids[index], logprobs[index], new_lengths


@torch.inference_mode()
def generate(model: nn.Module, prompts: list[list[int]], *, n: int = 1, temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0, max_new_tokens: int, stop_ids=(), seeds: list[int] | None = None, seed: int = 0, max_prefill_tokens: int = 16384, max_kv_cache_bytes: int | None = None, max_rows_per_wave: int | None = None) -> GenerateOutput:
    """Samples n continuations of each prompt. Sample j of prompt i depends only on seeds[i], j, the
    weights and the prompt (default seeds[i] = seed + i): a shard of the prompts with its seeds gives
    the same samples on any rank. `max_prefill_tokens` bounds one prefill chunk (padded tokens);
    `max_kv_cache_bytes` bounds the cache (default: half the free memory on CUDA, 4 GiB elsewhere):
    prompts that do not fit go in later waves. `max_rows_per_wave` caps the rows (prompts × n) of a
    wave further (whole prompts, at least one)."""
    start_time = time.perf_counter()
    cfg = model.config
    num_prompts = len(prompts)
    _check(num_prompts > 0 and all(len(p) > 0 for p in prompts), "every prompt needs at least one token")
    _check(max_rows_per_wave is None or max_rows_per_wave >= 1, f"max_rows_per_wave ({max_rows_per_wave}) must be ≥ 1")
    _check(n >= 1 and max_new_tokens >= 0, f"n ({n}) must be ≥ 1 and max_new_tokens ({max_new_tokens}) ≥ 0")
    _check(0.0 < top_p <= 1.0 and top_k >= 0 and temperature >= 0, f"need top_p in (0, 1], top_k ≥ 0, temperature ≥ 0; got {top_p}, {top_k}, {temperature}")
    flat_prompts = torch.tensor([t for p in prompts for t in p], dtype=torch.long)
    _check(0 <= int(flat_prompts.min()) and int(flat_prompts.max()) < cfg.vocab_size, f"prompt ids must be in [0, {cfg.vocab_size})")
    seeds = list(seeds) if seeds is not None else [seed + i for i in range(num_prompts)]
    _check(len(seeds) == num_prompts, f"{len(seeds)} seeds for {num_prompts} prompts")
    longest = max(len(p) for p in prompts)
    _check(longest + max_new_tokens <= cfg.max_position_embeddings, f"longest prompt ({longest}) + max_new_tokens ({max_new_tokens}) exceeds the model's max_position_embeddings ({cfg.max_position_embeddings})")
    if max_new_tokens == 0:
        rows = num_prompts * n
        return GenerateOutput(torch.zeros(0, dtype=torch.int32), torch.zeros(rows + 1, dtype=torch.int32), torch.zeros(0), ["length"] * rows, 0, time.perf_counter() - start_time, 0)

    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    if torch.is_autocast_enabled(device.type):  # fp32 master weights under bf16 autocast: cache in bf16
        dtype = torch.get_autocast_dtype(device.type)
    stop_set = sorted({int(t) for t in stop_ids})
    s = _Sampling(n, temperature, top_p, top_k, max_new_tokens, torch.tensor(stop_set, dtype=torch.long, device=device), max_prefill_tokens)

    # Longest prompts first: prefill chunks and waves then hold prompts of similar lengths (less
    # padding); samples do not depend on the batch, so only the rows' order changes, undone below.
    by_length = sorted(range(num_prompts), key=lambda i: -len(prompts[i]))
    prompts, seeds = [prompts[i] for i in by_length], [seeds[i] for i in by_length]
    # waves of prompts whose cache fits the budget (sized for the longest prompt of all: simple, safe)
    per_wave = prompts_per_wave(num_layers=cfg.num_hidden_layers, num_kv_heads=cfg.num_key_value_heads, head_dim=cfg.head_dim,
                                seq_len=longest + max_new_tokens, item_bytes=dtype.itemsize, n=n,
                                budget_bytes=_kv_budget(device, max_kv_cache_bytes), max_rows_per_wave=max_rows_per_wave)
    tokens, logprobs, lengths = [], [], []
    for p0 in range(0, num_prompts, per_wave):
        wave = _generate_wave(model, prompts[p0 : p0 + per_wave], seeds[p0 : p0 + per_wave], s, dtype)
        keep = torch.arange(max_new_tokens, device=device)[None, :] < wave[2][:, None]  # [R, N]
        tokens.append(wave[0][keep].to("cpu", torch.int32))  # row-major: rows back to back
        logprobs.append(wave[1][keep].cpu())
        lengths.append(wave[2].cpu())
    ids, logprobs_flat, lengths_t = _unsort_rows(torch.cat(tokens), torch.cat(logprobs), torch.cat(lengths), by_length, n)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths_t.cumsum(0)]).to(torch.int32)
    last = ids[(offsets[1:] - 1).clamp(min=0).long()] if ids.numel() else torch.zeros(len(lengths_t), dtype=torch.int32)
    is_stop = (lengths_t > 0) & torch.isin(last, s.stop_ids.cpu().to(torch.int32))
    return GenerateOutput(
        ids=ids,
        offsets=offsets,
        logprobs_flat=logprobs_flat,
        finish=["stop" if x else "length" for x in is_stop.tolist()],
        num_tokens=ids.numel(),
        seconds=time.perf_counter() - start_time,
        num_waves=-(-num_prompts // per_wave),
    )
