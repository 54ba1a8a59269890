"""Ragged batches as they arrive (PROTOCOL.md "Ragged batches"): validation and slicing."""

from dataclasses import dataclass

import torch
from torch import Tensor

from .errors import BadRequest


def need_array(arrays: dict, name: str, dtypes: tuple, length: int | None = None, optional=False) -> Tensor | None:
    """A 1-D request array of one of `dtypes`, of `length` elements when given."""
    t = arrays.get(name)
    if t is None:
        if optional:
            return None
        raise BadRequest(f"arrays.{name}: missing")
    if t.dtype not in dtypes:
        raise BadRequest(f"arrays.{name}: dtype {t.dtype} not accepted; send one of {', '.join(map(str, dtypes))}")
    if t.ndim != 1:
        raise BadRequest(f"arrays.{name}: expected 1-D, got shape {list(t.shape)}")
    if length is not None and t.numel() != length:
        raise BadRequest(f"arrays.{name}: expected {length} values, got {t.numel()}")
    return t


@dataclass
class SeqBatch:
    """B sequences back to back. ids: [N] int64; offsets: [B+1] int64; prompt_lens: [B] int64 (zeros for
    prompts-only batches). Response (per-token) arrays are [T], T = sum(seq_lens - prompt_lens)."""

    ids: Tensor
    offsets: Tensor
    prompt_lens: Tensor

    @property
    def num_seqs(self) -> int:
        return len(self.offsets) - 1

    @property
    def seq_lens(self) -> Tensor:
        return self.offsets[1:] - self.offsets[:-1]

    @property
    def resp_lens(self) -> Tensor:
        return self.seq_lens - self.prompt_lens

    @property
    def resp_offsets(self) -> Tensor:
        """[B+1] offsets of each sequence's response tokens within a per-token array."""
        return torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(self.resp_lens, 0)])

    @property
    def num_resp_tokens(self) -> int:
        return int(self.resp_lens.sum())

    def slice(self, b0: int, b1: int) -> "SeqBatch":
        o = self.offsets
        return SeqBatch(self.ids[o[b0] : o[b1]], o[b0 : b1 + 1] - o[b0], self.prompt_lens[b0:b1])

    def select(self, seqs: Tensor) -> "SeqBatch":
        """The sequences `seqs` ([b] int64 indices, in that order), back to back."""
        lens = self.seq_lens[seqs]
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(lens, 0)])
        return SeqBatch(self.ids[segments(self.offsets[:-1][seqs], lens)], offsets, self.prompt_lens[seqs])


def segments(starts: Tensor, lens: Tensor) -> Tensor:
    """Flat indices of the ranges [starts[i], starts[i] + lens[i]), one after another: [sum(lens)] int64."""
    total = int(lens.sum())
    if total == 0:
        return torch.zeros(0, dtype=torch.int64)
    begin = torch.cumsum(lens, 0) - lens  # where each range starts in the output
    return torch.arange(total) + torch.repeat_interleave(starts - begin, lens, output_size=total)


INT_TYPES = (torch.int32, torch.int64)


def parse_seq_batch(arrays: dict, with_prompt_lens: bool, vocab_size: int | None = None) -> SeqBatch:
    ids = need_array(arrays, "ids", INT_TYPES).long()
    offsets = need_array(arrays, "offsets", INT_TYPES).long()
    if offsets.numel() < 2 or offsets[0] != 0 or offsets[-1] != ids.numel():
        raise BadRequest(
            f"arrays.offsets: need B + 1 >= 2 values from 0 to len(ids) = {ids.numel()}, "
            f"got {offsets.numel()} values ending at {int(offsets[-1]) if offsets.numel() else None}"
        )
    lens = offsets[1:] - offsets[:-1]
    if (lens <= 0).any():
        raise BadRequest(f"arrays.offsets: sequence {int((lens <= 0).nonzero()[0])} is empty or offsets decrease")
    if ids.numel() and (ids.min() < 0 or (vocab_size is not None and ids.max() >= vocab_size)):
        raise BadRequest(f"arrays.ids: token ids must lie in [0, {vocab_size}), got {int(ids.min())}..{int(ids.max())}")
    if with_prompt_lens:
        prompt_lens = need_array(arrays, "prompt_lens", INT_TYPES, length=len(lens)).long()
        if (prompt_lens < 1).any() or (prompt_lens > lens).any():
            b = int(((prompt_lens < 1) | (prompt_lens > lens)).nonzero()[0])
            raise BadRequest(
                f"arrays.prompt_lens[{b}]: {int(prompt_lens[b])} must be in [1, sequence length {int(lens[b])}] "
                "(the first response token is predicted from at least one prompt token)"
            )
    else:
        prompt_lens = torch.zeros_like(lens)
    return SeqBatch(ids, offsets, prompt_lens)
