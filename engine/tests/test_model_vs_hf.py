"""Our Qwen2 / Llama logits equal transformers' on the same checkpoints (fp32, ≤ 1e-4)."""

import torch
from conftest import load_hf

from simplerl_engine.model.kv_cache import KVCache
from simplerl_engine.model.masks import padded_causal_mask, positions_from_padding
from simplerl_engine.weights import load_pretrained

TOL = 1e-4


def _batch(pad_side: str, lengths=(7, 12, 3), vocab=128, seed=0):
    gen = torch.Generator().manual_seed(seed)
    T = max(lengths)
    ids = torch.zeros(len(lengths), T, dtype=torch.long)
    mask = torch.zeros(len(lengths), T, dtype=torch.long)
    for b, n in enumerate(lengths):
        cols = slice(T - n, T) if pad_side == "left" else slice(0, n)
        ids[b, cols] = torch.randint(3, vocab, (n,), generator=gen)
        mask[b, cols] = 1
    return ids, mask


@torch.no_grad()
def test_logits_match_transformers_unpadded(any_checkpoint):
    ours, ref = load_pretrained(any_checkpoint), load_hf(any_checkpoint)
    ids = torch.randint(0, 128, (2, 16), generator=torch.Generator().manual_seed(1))
    diff = (ours(ids) - ref(input_ids=ids).logits).abs().max().item()
    assert diff <= TOL, diff


@torch.no_grad()
def test_logits_match_transformers_padded(any_checkpoint):
    ours, ref = load_pretrained(any_checkpoint), load_hf(any_checkpoint)
    for side in ("left", "right"):
        ids, mask = _batch(side)
        positions = positions_from_padding(mask.bool())
        expected = ref(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        got = ours(ids, attention_mask=mask)
        is_token = mask.bool()
        diff = (got[is_token] - expected[is_token]).abs().max().item()
        assert diff <= TOL, (side, diff)
        assert torch.isfinite(got).all()  # padding positions too: no NaN leaks out of empty mask rows


@torch.no_grad()
def test_kv_cache_decode_matches_full_forward(qwen2_dir, llama_dir):
    """Prefill a left-padded batch into the cache (each prompt copied to n=2 rows), then decode token by
    token; each step's logits equal transformers' full forward over the whole sequence."""
    for path in (qwen2_dir, llama_dir):
        ours, ref = load_pretrained(path), load_hf(path)
        n, num_decode = 2, 5
        prompt_ids, prompt_mask = _batch("left", lengths=(4, 9, 6), seed=2)
        P, T0 = prompt_ids.shape
        gen = torch.Generator().manual_seed(3)
        cont = torch.randint(3, 128, (P * n, num_decode), generator=gen)  # different per sample
        full_ids = torch.cat([prompt_ids.repeat_interleave(n, 0), cont], 1)  # [P*n, T0+num_decode]
        full_mask = torch.cat([prompt_mask.repeat_interleave(n, 0), torch.ones_like(cont)], 1)
        expected = ref(input_ids=full_ids, attention_mask=full_mask, position_ids=positions_from_padding(full_mask.bool())).logits

        cfg = ours.config
        cache = KVCache(cfg.num_hidden_layers, P * n, cfg.num_key_value_heads, T0 + num_decode, cfg.head_dim, dtype=torch.float32, device=torch.device("cpu"))
        is_token = prompt_mask.bool()
        cache.begin_prefill(0, P * n, n)
        hidden = ours.model(prompt_ids, positions_from_padding(is_token), padded_causal_mask(is_token), cache)
        got = ours.lm_head(hidden).repeat_interleave(n, 0)  # [P*n, T0, V]
        rows_tok = is_token.repeat_interleave(n, 0)
        assert (got[rows_tok] - expected[:, :T0][rows_tok]).abs().max() <= TOL
        key_valid = full_mask.bool()  # [P*n, S]
        for t in range(num_decode):
            slot = T0 + t
            cache.begin_decode(slot)
            pos = (rows_tok.sum(1) + t)[:, None]  # [R, 1]
            h = ours.model(cont[:, t : t + 1], pos, key_valid[:, None, None, : slot + 1], cache)
            diff = (ours.lm_head(h)[:, 0] - expected[:, slot]).abs().max().item()
            assert diff <= TOL, (path, t, diff)
