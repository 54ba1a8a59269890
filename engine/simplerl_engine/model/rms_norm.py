"""RMSNorm as Qwen2 / Llama compute it: statistics in fp32, the weight applied in the input dtype."""

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, hidden_size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [..., H]
        x32 = F.rms_norm(x.float(), (x.shape[-1],), eps=self.eps)  # one fused op (x / rms(x))
        return self.weight * x32.to(x.dtype)
