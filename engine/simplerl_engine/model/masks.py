"""Attention masks and position ids for padded batches (bool masks: True = may attend)."""

import torch


def positions_from_padding(is_token: torch.Tensor) -> torch.Tensor:
    """is_token: bool [B, T] (False = padding, left or right) → position ids [B, T] counting real
    tokens only (padding gets 0 or the last position; its outputs are ignored)."""
    return (is_token.long().cumsum(-1) - 1).clamp(min=0)


def padded_causal_mask(is_token: torch.Tensor) -> torch.Tensor:
    """is_token: bool [B, T] → bool [B, 1, T, T]: causal and no padding keys. Each query also sees
    itself, so a padding query never has an empty row (which would give NaN and poison later layers)."""
    T = is_token.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool, device=is_token.device).tril()  # [T, T]
    eye = torch.eye(T, dtype=torch.bool, device=is_token.device)
    return ((causal & is_token[:, None, None, :]) | eye).contiguous()  # [B, 1, T, T]
