"""Grouped-query self-attention with RoPE, optionally reading/writing a KVCache."""

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .kv_cache import KVCache
from .rope import apply_rope


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads = cfg.num_attention_heads
        self.num_kv_heads = cfg.num_key_value_heads
        self.head_dim = cfg.head_dim
        h, d = cfg.hidden_size, cfg.head_dim
        self.q_proj = nn.Linear(h, self.num_heads * d, bias=cfg.attention_bias)
        self.k_proj = nn.Linear(h, self.num_kv_heads * d, bias=cfg.attention_bias)
        self.v_proj = nn.Linear(h, self.num_kv_heads * d, bias=cfg.attention_bias)
        self.o_proj = nn.Linear(self.num_heads * d, h, bias=cfg.o_proj_bias)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, attn_mask: torch.Tensor | None, kv_cache: KVCache | None) -> torch.Tensor:
        """x: [B, T, H]; cos, sin: [B, T, D]; attn_mask: bool [B, 1, T, S] (True = may attend) or None
        for plain causal attention over the T tokens (no padding inside them)."""
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.num_heads, self.head_dim).transpose(1, 2)  # [B, Hq, T, D]
        k = self.k_proj(x).view(B, T, self.num_kv_heads, self.head_dim).transpose(1, 2)  # [B, Hkv, T, D]
        v = self.v_proj(x).view(B, T, self.num_kv_heads, self.head_dim).transpose(1, 2)  # [B, Hkv, T, D]
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if kv_cache is not None:
            k, v = kv_cache.update(self.layer_idx, k, v)  # [B, Hkv, S, D]
        is_gqa = self.num_kv_heads != self.num_heads
        if T == 1 and attn_mask is not None:
            o = decode_attention(q, k, v, attn_mask)
        elif attn_mask is None:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1, enable_gqa=is_gqa)  # [B, Hq, T, D]
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, enable_gqa=is_gqa)
        return self.o_proj(o.transpose(1, 2).reshape(B, T, self.num_heads * self.head_dim))


def decode_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
    """One query per row: q [B, Hq, 1, D], k, v [B, Hkv, S, D], attn_mask bool [B, 1, 1, S] → [B, Hq, 1, D].
    The query heads of a group share one matmul with their kv head (no repeated k/v); plain matmuls
    beat the fused kernels here (masked single-query attention, measured on CPU)."""
    B, Hq, _, D = q.shape
    Hkv = k.shape[1]
    qg = q.view(B, Hkv, Hq // Hkv, D)  # [B, Hkv, G, D]
    scores = (qg @ k.transpose(-1, -2)) * D**-0.5  # [B, Hkv, G, S]
    scores = scores.masked_fill(~attn_mask, float("-inf"))
    p = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    return (p @ v).view(B, Hq, 1, D)
