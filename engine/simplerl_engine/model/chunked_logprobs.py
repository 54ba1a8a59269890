"""Log-probs and entropies of chosen tokens from hidden states and the output embedding, computed
over row chunks so that the fp32 logits exist only for `chunk_elems` elements at a time, in forward
and in backward (which recomputes them), never for a whole batch."""

import torch


# fp32 logits alive at once: 256 MiB (441 rows of a 152k vocabulary). Larger chunks mean fewer passes
# over the [V, H] weight gradient in backward, which dominate its memory traffic.
LOGITS_CHUNK_ELEMS = 1 << 26


def _chunk_rows(vocab_size: int, chunk_elems: int) -> int:
    return max(1, chunk_elems // vocab_size)


def _scaled_logits(h: torch.Tensor, weight: torch.Tensor, temperature: float) -> torch.Tensor:
    z = h @ weight.T  # [n, V]
    z = z.to(torch.promote_types(z.dtype, torch.float32))  # fp32 at least (fp64 for gradcheck)
    return z / temperature if temperature != 1.0 else z


class ChunkedLogprobs(torch.autograd.Function):
    """hidden [N, H], weight [V, H], targets [N] → logprobs [N], entropy [N] of softmax(hidden·Wᵀ / T),
    computed over row chunks; backward recomputes each chunk's logits instead of storing them.
    With z = logits / T, p = softmax(z), H = -Σ p log p:
      d logp[y] / dz = onehot(y) - p,   dH / dz = -p (log p + H)."""

    @staticmethod
    def forward(ctx, hidden, weight, targets, temperature: float, chunk_rows: int):
        num_rows = hidden.shape[0]
        out_dtype = torch.promote_types(hidden.dtype, torch.float32)
        logprobs = torch.empty(num_rows, dtype=out_dtype, device=hidden.device)
        entropy = torch.empty(num_rows, dtype=out_dtype, device=hidden.device)
        for r0 in range(0, num_rows, chunk_rows):
            z = _scaled_logits(hidden[r0 : r0 + chunk_rows], weight, temperature)  # [n, V]
            logp = torch.log_softmax(z, dim=-1)
            logprobs[r0 : r0 + chunk_rows] = logp.gather(-1, targets[r0 : r0 + chunk_rows, None]).squeeze(-1)
            entropy[r0 : r0 + chunk_rows] = -(logp.exp() * logp).sum(-1)
        ctx.save_for_backward(hidden, weight, targets, entropy)
        ctx.temperature, ctx.chunk_rows = temperature, chunk_rows
        device_type = hidden.device.type  # backward recomputes the logits in the precision autocast gave them
        ctx.autocast = (torch.get_autocast_dtype(device_type), torch.is_autocast_enabled(device_type))
        ctx.set_materialize_grads(False)  # an unused output (often entropy) gets None: skip its term
        return logprobs, entropy

    @staticmethod
    def backward(ctx, grad_logprobs, grad_entropy):
        hidden, weight, targets, entropy = ctx.saved_tensors
        if grad_logprobs is None and grad_entropy is None:
            return None, None, None, None, None
        T, chunk_rows = ctx.temperature, ctx.chunk_rows
        autocast_dtype, is_autocast = ctx.autocast
        # matmuls in the forward's precision (bf16 under autocast, as autocast ran them), sums in fp32
        mm_dtype = autocast_dtype if is_autocast else weight.dtype
        w = weight.to(mm_dtype)  # [V, H], cast once
        grad_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[0] else None
        acc_dtype = torch.promote_types(weight.dtype, torch.float32)
        grad_weight = torch.zeros(weight.shape, dtype=acc_dtype, device=weight.device) if ctx.needs_input_grad[1] else None
        for r0 in range(0, hidden.shape[0], chunk_rows):
            rows = slice(r0, r0 + chunk_rows)
            h = hidden[rows].to(mm_dtype)  # [n, H]
            logp = torch.log_softmax(_scaled_logits(h, w, T), dim=-1)  # [n, V] recomputed, fp32
            p = logp.exp()
            # grad_z = onehot(y) g_lp - p (g_lp + g_H (logp + H)), built in place: three [n, V] fp32
            # buffers alive (logp, p, grad_z) and few kernels (the step is bound by their launches on a GPU)
            if grad_entropy is not None:
                grad_z = logp.add_(entropy[rows, None]).mul_(p).mul_(grad_entropy[rows, None])  # reuses logp
                if grad_logprobs is not None:
                    grad_z.addcmul_(p, grad_logprobs[rows, None])
                grad_z.neg_()
            else:
                grad_z = p.mul_(grad_logprobs[rows, None].neg())  # reuses p
            del logp, p
            if grad_logprobs is not None:
                grad_z.scatter_add_(-1, targets[rows, None], grad_logprobs[rows, None])
            if T != 1.0:
                grad_z.div_(T)
            grad_logits = grad_z.to(mm_dtype)  # [n, V]
            del grad_z
            if grad_hidden is not None:
                grad_hidden[rows] = (grad_logits @ w).to(hidden.dtype)
            if grad_weight is not None:
                if mm_dtype == acc_dtype:
                    grad_weight.addmm_(grad_logits.T, h)  # in place: one pass over [V, H] per chunk
                else:
                    grad_weight += grad_logits.T @ h
        return grad_hidden, (grad_weight.to(weight.dtype) if grad_weight is not None else None), None, None, None


def chunked_logprobs(hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, *, temperature: float = 1.0, chunk_elems: int = LOGITS_CHUNK_ELEMS) -> tuple[torch.Tensor, torch.Tensor]:
    """hidden [N, H], weight [V, H], targets int64 [N] → (logprobs [N], entropy [N]), fp32."""
    assert hidden.shape[0] == targets.shape[0] and hidden.shape[1] == weight.shape[1]
    if temperature <= 0:
        temperature = 1.0  # greedy sampling is scored at temperature 1 (PROTOCOL.md generate)
    return ChunkedLogprobs.apply(hidden, weight, targets, float(temperature), _chunk_rows(weight.shape[0], chunk_elems))
