"""Static KV cache of one generate call: allocated once, written in place, rows dropped when they finish.

Slot layout: every row shares one slot axis. Prompts are left-padded to a common length T0, so slot s
< T0 holds prompt token s - pad_b of row b, and decode step t writes slot T0 + t for all rows at once
(one uniform index, no per-row scatter). Padding slots are masked out by the caller's `key_valid`."""

import torch


class KVCache:
    def __init__(self, num_layers: int, num_rows: int, num_kv_heads: int, max_slots: int, head_dim: int, *, dtype: torch.dtype, device: torch.device):
        shape = (num_layers, num_rows, num_kv_heads, max_slots, head_dim)
        self.k = torch.zeros(shape, dtype=dtype, device=device)  # [L, R, Hkv, S, D]
        self.v = torch.zeros(shape, dtype=dtype, device=device)  # [L, R, Hkv, S, D]
        self.max_slots = max_slots
        self.prefill_rows: tuple[int, int] | None = None  # cache rows [start, end) written by a prefill
        self.prefill_slot = 0  # first slot a prefill writes (a chunk of short prompts skips padding slots)
        self.repeat = 1  # each prefilled row is copied to `repeat` consecutive cache rows (n samples)
        self.decode_slot: int | None = None

    @property
    def num_rows(self) -> int:
        return self.k.shape[1]

    def begin_prefill(self, row_start: int, row_end: int, repeat: int, slot_start: int = 0) -> None:
        self.prefill_rows, self.repeat, self.prefill_slot, self.decode_slot = (row_start, row_end), repeat, slot_start, None

    def begin_decode(self, slot: int) -> None:
        assert 0 <= slot < self.max_slots, (slot, self.max_slots)
        self.prefill_rows, self.decode_slot = None, slot

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """k, v: [b, Hkv, T, D] of the current tokens → the keys/values the queries attend to."""
        if self.prefill_rows is not None:
            start, end = self.prefill_rows
            s0, s1 = self.prefill_slot, self.prefill_slot + k.shape[2]
            assert (end - start) == k.shape[0] * self.repeat and s1 <= self.max_slots
            # the prompt attends to its own fresh k/v; its n samples get copies for decoding
            self.k[layer, start:end, :, s0:s1] = k.repeat_interleave(self.repeat, dim=0)
            self.v[layer, start:end, :, s0:s1] = v.repeat_interleave(self.repeat, dim=0)
            return k, v
        slot = self.decode_slot
        assert slot is not None and k.shape[2] == 1 and k.shape[0] == self.num_rows
        self.k[layer, :, :, slot] = k[:, :, 0]
        self.v[layer, :, :, slot] = v[:, :, 0]
        return self.k[layer, :, :, : slot + 1], self.v[layer, :, :, : slot + 1]  # [R, Hkv, slot+1, D]

    def keep_rows(self, rows: torch.Tensor) -> None:
        """Drops finished rows (rows: [R'] indices to keep) so they stop costing attention and memory."""
        self.k = self.k.index_select(1, rows)
        self.v = self.v.index_select(1, rows)
