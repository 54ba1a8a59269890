"""Data-parallel split of a request's sequences over ranks, and the gathers that put results back in
request order. Every rank computes the same split from the same request (no communication)."""

import torch
import torch.distributed as tdist
from torch import Tensor

from . import dist


def split_balanced(weights: list[int], num_ranks: int) -> list[list[int]]:
    """Indices of `weights` dealt to `num_ranks` ranks so that their sums are close: longest first,
    each to the least-loaded rank (LPT, at most 4/3 of the optimum); ties go to the lower rank.
    Each rank's indices come back ascending (its share keeps request order)."""
    loads = [0] * num_ranks
    shares: list[list[int]] = [[] for _ in range(num_ranks)]
    for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        r = min(range(num_ranks), key=lambda r: (loads[r], r))
        shares[r].append(i)
        loads[r] += weights[i]
    return [sorted(s) for s in shares]


def take_seqs(arrays: dict[str, Tensor], seqs: list[int], per_token: tuple[str, ...]) -> dict[str, Tensor]:
    """The request arrays of sequences `seqs` (ids/offsets ragged, prompt_lens per sequence, the
    `per_token` arrays over response tokens, PROTOCOL.md "Ragged batches"). Other arrays are dropped."""
    offsets = arrays["offsets"].long()
    lens = offsets[1:] - offsets[:-1]
    prompt_lens = arrays["prompt_lens"].long() if "prompt_lens" in arrays else torch.zeros_like(lens)
    resp_offsets = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lens - prompt_lens, 0)])
    idx = torch.tensor(seqs, dtype=torch.long)
    out = {
        "ids": torch.cat([arrays["ids"][offsets[b] : offsets[b + 1]] for b in seqs]),
        "offsets": torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lens[idx], 0)]).to(arrays["offsets"].dtype),
    }
    if "prompt_lens" in arrays:
        out["prompt_lens"] = arrays["prompt_lens"][idx]
    for k in per_token:
        if k in arrays:
            out[k] = torch.cat([arrays[k][resp_offsets[b] : resp_offsets[b + 1]] for b in seqs])
    return out


def all_gather_objects(obj) -> list:
    """Every rank's `obj`, in rank order (pickled: fine for results of a few hundred MB at most)."""
    if dist.world_size() == 1:
        return [obj]
    out = [None] * dist.world_size()
    tdist.all_gather_object(out, obj)
    return out


def merge_ragged(shares: list[list[int]], parts: list[list[Tensor]], num_items: int) -> list[Tensor]:
    """parts[r][j]: the tensor of item shares[r][j] computed on rank r → the tensors of all items in
    request order."""
    by_item: list[Tensor | None] = [None] * num_items
    for share, rank_parts in zip(shares, parts):
        assert len(share) == len(rank_parts), (len(share), len(rank_parts))
        for i, t in zip(share, rank_parts):
            by_item[i] = t
    assert all(t is not None for t in by_item)
    return by_item  # type: ignore[return-value]
