"""Rotary position embedding. The cos/sin table is computed lazily per device and grown on demand
(not a buffer: meta-device construction and state_dict stay clean), in fp32 like transformers."""

import math

import torch
from torch import nn

from .config import ModelConfig


def rope_inv_freq(cfg: ModelConfig) -> torch.Tensor:  # [D/2] fp32
    d = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64, device="cpu").float() / d))  # cpu even under a meta-device context
    scaling = cfg.rope_scaling or {}
    if scaling.get("rope_type") == "llama3":
        # Llama 3.1: keep high frequencies, divide low ones by `factor`, blend in between.
        factor = scaling["factor"]
        low_freq_factor = scaling["low_freq_factor"]
        high_freq_factor = scaling["high_freq_factor"]
        old_context_len = scaling["original_max_position_embeddings"]
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        inv_freq = torch.where(is_medium, smoothed, scaled)
    return inv_freq


class Rotary(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.inv_freq_cpu = rope_inv_freq(cfg)  # [D/2], plain attribute: not in state_dict
        self.table: tuple[torch.Tensor, torch.Tensor] | None = None  # cos, sin: [S, D] fp32

    def _table(self, num_positions: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.table is None or self.table[0].device != device or self.table[0].shape[0] < num_positions:
            size = max(num_positions, 2 * self.table[0].shape[0] if self.table is not None else 256)
            inv_freq = self.inv_freq_cpu.to(device)
            freqs = torch.arange(size, device=device, dtype=torch.float32)[:, None] * inv_freq[None, :]  # [S, D/2]
            emb = torch.cat((freqs, freqs), dim=-1)  # [S, D]
            self.table = (emb.cos(), emb.sin())
        return self.table

    def forward(self, position_ids: torch.Tensor, dtype: torch.dtype, max_position: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """position_ids: [B, T] → cos, sin: [B, T, D] in `dtype`. `max_position` avoids a host sync."""
        if max_position is None:
            max_position = int(position_ids.max()) if position_ids.numel() else 0
        cos, sin = self._table(max_position + 1, position_ids.device)
        return cos[position_ids].to(dtype), sin[position_ids].to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: [B, heads, T, D]; cos, sin: [B, T, D]."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return x * cos + rotate_half(x) * sin
