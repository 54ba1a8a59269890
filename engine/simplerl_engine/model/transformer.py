"""Qwen2 / Llama decoder with Hugging Face parameter names, so that state_dict keys match checkpoints
("model.layers.0.self_attn.q_proj.weight", "lm_head.weight", critic "score.weight")."""

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .attention import Attention
from .chunked_logprobs import LOGITS_CHUNK_ELEMS, chunked_logprobs
from .config import ModelConfig
from .kv_cache import KVCache
from .masks import padded_causal_mask, positions_from_padding
from .mlp import MLP
from .rms_norm import RMSNorm
from .rope import Rotary


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, layer_idx: int):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg, layer_idx)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg.hidden_size, cfg.intermediate_size, cfg.mlp_bias)

    def forward(self, x, cos, sin, attn_mask, kv_cache):  # x: [B, T, H]
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, attn_mask, kv_cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    """HF's `model.` prefix: embeddings, decoder layers, final norm. Returns hidden states, not logits,
    so that log-probs can be computed in chunks and the critic can share it."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg)
        self.gradient_checkpointing = False  # recompute each layer in backward (trades compute for memory)

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, attn_mask: torch.Tensor | None = None, kv_cache: KVCache | None = None, max_position: int | None = None) -> torch.Tensor:
        """input_ids, position_ids: [B, T]; attn_mask: bool [B, 1, T, S] or None (causal) → [B, T, H]."""
        x = self.embed_tokens(input_ids)  # [B, T, H]
        cos, sin = self.rotary(position_ids, x.dtype, max_position)  # [B, T, D]
        use_checkpoint = self.gradient_checkpointing and torch.is_grad_enabled() and kv_cache is None
        for layer in self.layers:
            if use_checkpoint:
                x = checkpoint(layer, x, cos, sin, attn_mask, None, use_reentrant=False)
            else:
                x = layer(x, cos, sin, attn_mask, kv_cache)
        return self.norm(x)

    def forward_padded(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, position_ids: torch.Tensor | None = None) -> torch.Tensor:
        """HF-style call: attention_mask [B, T] (1 = token, 0 = padding, left or right)."""
        if attention_mask is None:
            if position_ids is None:  # plain causal: the largest position is known, no host sync to find it
                position_ids = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
                return self(input_ids, position_ids, max_position=max(input_ids.shape[1] - 1, 0))
            return self(input_ids, position_ids)
        is_token = attention_mask.bool()
        if position_ids is None:
            position_ids = positions_from_padding(is_token)
        return self(input_ids, position_ids, padded_causal_mask(is_token))


class CausalLM(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.model = Backbone(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.tie_weights()

    def tie_weights(self) -> None:
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, position_ids: torch.Tensor | None = None, *, logprobs_of: tuple[torch.Tensor, torch.Tensor] | None = None, temperature: float = 1.0, logits_chunk_elems: int = LOGITS_CHUNK_ELEMS):
        """Without `logprobs_of`: full logits [B, T, V] (tests, small batches). With logprobs_of =
        (rows [n] flat indices into the B·T positions, targets [n]): (logprobs [n], entropy [n]) of
        each target under softmax(logits[row] / temperature), in chunks (full logits never exist).
        One entry point, so that wrappers' forward hooks (FSDP unsharding lm_head) always run."""
        hidden = self.model.forward_padded(input_ids, attention_mask, position_ids)  # [B, T, H]
        if logprobs_of is None:
            return self.lm_head(hidden)
        rows, targets = logprobs_of
        h = hidden.reshape(-1, hidden.shape[-1])[rows]  # [n, H]
        return chunked_logprobs(h, self.lm_head.weight, targets, temperature=temperature, chunk_elems=logits_chunk_elems)


class ValueModel(nn.Module):
    """Critic: the same backbone and a scalar head `score` (hidden → 1, no bias, as HF's
    *ForSequenceClassification), applied at every position."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.model = Backbone(cfg)
        self.score = nn.Linear(cfg.hidden_size, 1, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, position_ids: torch.Tensor | None = None, *, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Values [B, T] of every position, or [n] of the flat positions `rows` only."""
        hidden = self.model.forward_padded(input_ids, attention_mask, position_ids)  # [B, T, H]
        if rows is None:
            return self.score(hidden).squeeze(-1)
        return self.score(hidden.reshape(-1, hidden.shape[-1])[rows]).squeeze(-1)  # [n]
