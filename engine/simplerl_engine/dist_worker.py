"""The Worker of N > 1 ranks (torchrun). Every rank receives the same request (server.dispatch) and:

- `load`: builds the role as at N = 1, then shards it with FSDP2 (fsdp.py); the optimiser is AdamW over
  the shards, so its state is sharded too.
- `train` / `forward`: takes its share of the sequences (balanced by tokens, shard.py), runs the N = 1
  code on it, and the results are gathered back in request order. `train`'s loss denominator is
  global (train.py sums it over ranks, or `loss_norm`) and FSDP sums the gradients, so N ranks
  compute the update one rank computes on the whole batch.
- `generate`: refreshes a full-weight copy of the role from the shards (in memory), generates its
  share of the prompts (balanced by expected tokens) with their own seeds, and the rows are gathered
  in prompt order: the samples are those of N = 1 (sampling.py is counter-based per row).
- `save`: rank 0 writes the full Hugging Face folder; the optimiser state goes through
  torch.distributed.checkpoint (each rank writes its shards; the folder must be on a shared file
  system across nodes), `optimizer.pt` then names that folder (dist_checkpoint.py).

A request that the N = 1 code would reject is handed to it whole, so every rank raises the same error
before any collective; errors that depend on a rank's share are exchanged so that all ranks raise."""

import os
import shutil
import sys

import torch
import torch.distributed as tdist
from torch import Tensor

from . import dist
from .batch import parse_seq_batch
from .dist_checkpoint import load_sharded_optimizer, save_sharded_optimizer
from .errors import BadRequest, EngineError
from .forward import plan_micro_batches
from .launch import collective_failure, is_collective_failure
from .fsdp import GenerationCopy, full_state_dict_on_cpu, is_sharded, plain_model_from, shard_model
from .optim import Optimizer
from .roles import Role
from .shard import all_gather_objects, merge_ragged, split_balanced, take_seqs
from .train import PER_TOKEN
from .weights import save_pretrained
from .worker import Args, Worker

TRAIN_ARRAYS = ("ids", "offsets", "prompt_lens", "mask", *PER_TOKEN)
DEFAULT_FORWARD_TOKENS = 8192  # forward's micro_batch_tokens default (forward.py token_logprobs)


class DistWorker(Worker):
    no_grad_mode = staticmethod(torch.no_grad)

    def __init__(self, device: torch.device, threads: int):
        super().__init__(device, threads)
        self.generation_copies: dict[str, GenerationCopy] = {}

    def call(self, op, args: dict, arrays: dict):
        try:
            return super().call(op, args, arrays)
        except Exception as e:
            if not is_collective_failure(e):
                raise
            raise collective_failure(op, e) from e

    # --- load --------------------------------------------------------------------------------------

    def op_load(self, a: Args, arrays):
        resume = a.args.get("resume_optimizer")
        if resume is None or a.args.get("optim") is None:
            result, out = super().op_load(a, arrays)  # (without optim the N = 1 code rejects resume_optimizer)
        else:  # the optimiser state is loaded after sharding, from its sharded format
            result, out = super().op_load(Args("load", {k: v for k, v in a.args.items() if k != "resume_optimizer"}), arrays)
        role: Role = self.roles[a.args["role"]]
        for name in [n for n in self.generation_copies if n not in self.roles or n == role.name]:
            self.generation_copies.pop(name)
        if role.base_of is not None:
            return result, out  # a view of a role that is sharded already
        opt_args = role.optim.args if role.optim is not None else None
        role.optim = None  # it references the full parameters: let them go once sharded
        shard_model(role.model, self.device, bf16_compute=role.is_autocast)
        if opt_args is not None:
            role.optim = Optimizer(role.model, opt_args)  # AdamW over the shards: sharded state
            if resume is not None:
                try:
                    load_sharded_optimizer(role, resume)
                except Exception:
                    self.roles.pop(role.name, None)  # as at N = 1: a failed resume leaves the role unloaded
                    raise
        return result, out

    # --- train / forward: a share of the sequences per rank ------------------------------------------

    def _share(self, a: Args, arrays, known: tuple[str, ...] | None):
        """(shares, my sequence indices) when the request is well-formed, else None (the N = 1 code then
        rejects it the same way on every rank)."""
        try:
            role = self.roles.get_loaded(a.args.get("role"))
            batch = parse_seq_batch(arrays, with_prompt_lens=True, vocab_size=role.config.get("vocab_size"))
            if known is not None and set(arrays) - set(known):
                return None
            num_resp = batch.num_resp_tokens
            for k in ("mask", *PER_TOKEN):
                if k in arrays and (arrays[k].ndim != 1 or arrays[k].numel() != num_resp):
                    return None
        except Exception:
            return None
        shares = split_balanced(batch.seq_lens.tolist(), dist.world_size())
        return shares, shares[dist.rank()]

    def op_train(self, a: Args, arrays):
        planned = self._share(a, arrays, TRAIN_ARRAYS)
        if planned is None:
            super().op_train(a, arrays)  # raises the request's error on every rank
            raise EngineError("train: the request was accepted by the op but not by the shard planner")
        shares, mine = planned
        if mine:
            local = take_seqs(arrays, mine, ("mask", *PER_TOKEN))
        else:  # fewer sequences than ranks: run one masked-out sequence (FSDP needs every rank's passes)
            local = take_seqs(arrays, [0], ("mask", *PER_TOKEN))
            local["mask"] = torch.zeros(int(local["ids"].numel() - local["prompt_lens"].sum()), dtype=torch.uint8)
        stats, _ = super().op_train(a, local)
        return combine_train_stats(all_gather_objects(stats), num_seqs=len(arrays["offsets"]) - 1), {}

    def op_forward(self, a: Args, arrays):
        planned = self._share(a, arrays, None)
        mbt = a.args.get("micro_batch_tokens")
        if planned is None or not (mbt is None or (isinstance(mbt, int) and mbt >= 1)):
            return super().op_forward(a, arrays)  # raises, or runs the whole batch on every rank (same result)
        shares, mine = planned
        lens = (arrays["offsets"][1:] - arrays["offsets"][:-1]).long().tolist()
        # one model call per micro-batch, and every rank makes as many calls (FSDP all-gathers per call)
        by_length = sorted(mine, key=lambda b: (-lens[b], b))
        calls = [by_length[b0:b1] for b0, b1 in plan_micro_batches([lens[b] for b in by_length], mbt or DEFAULT_FORWARD_TOKENS)]
        num_calls = int(dist.all_reduce_max(torch.tensor(max(len(calls), 1))))
        pad = calls[0] if calls else [0]
        per_seq: dict[int, dict[str, Tensor]] = {}
        names: list[str] = []
        for i in range(num_calls):
            seqs = calls[i] if i < len(calls) else pad
            sub = take_seqs(arrays, seqs, ())
            _, out = super().op_forward(Args("forward", a.args), sub)
            names = list(out)
            resp = (sub["offsets"][1:] - sub["offsets"][:-1]).long() - sub["prompt_lens"].long()
            if i < len(calls):
                for b, parts in zip(seqs, zip(*(torch.split(out[k], resp.tolist()) for k in names))):
                    per_seq[b] = dict(zip(names, parts))
        gathered = all_gather_objects([[per_seq[b][k] for b in mine] for k in names])
        result = {k: torch.cat(merge_ragged(shares, [g[j] for g in gathered], len(lens))) for j, k in enumerate(names)}
        return {"num_tokens": int(result[names[0]].numel())}, result

    # --- generate: full weights on every rank, a share of the prompts each --------------------------

    def _generation_model(self, role: Role):
        if not is_sharded(role.model):
            return role.model
        copy = self.generation_copies.get(role.name)
        if copy is None:
            dtype = torch.bfloat16 if role.is_autocast else role.dtype
            scaling = role.lora.scaling if role.lora is not None and role.base_of is None else None
            copy = self.generation_copies[role.name] = GenerationCopy(role.model, dtype, self.device, lora_scaling=scaling)
        version = (id(role), role.optim.num_steps if role.optim is not None else 0)
        if copy.refresh(role.model, version):
            s = self.op_times.setdefault("refresh_weights", {"count": 0, "seconds": 0.0, "bytes": copy.num_bytes})
            s["count"] += 1
            s["seconds"] += copy.last_refresh_s
            if dist.is_main():
                print(f"simplerl_engine: refreshed {role.name} generation weights ({copy.num_bytes / 2**20:.1f} MiB) "
                      f"from the shards in {copy.last_refresh_s * 1e3:.1f} ms", file=sys.stderr, flush=True)
        return copy.model

    def op_generate(self, a: Args, arrays):
        role = self._role_or_none(a.args.get("role") or "policy")
        if role is None:
            return super().op_generate(a, arrays)  # NotLoaded / bad role, on every rank
        model = self._generation_model(role)
        try:
            batch = parse_seq_batch(arrays, with_prompt_lens=False, vocab_size=role.config.get("vocab_size"))
            num_prompts = batch.num_seqs
            n, max_new = a.args.get("n") or 1, a.args["max_new_tokens"]
            seeds = a.args.get("seeds")
            if seeds is None:
                seeds = [(a.args.get("seed") or 0) + i for i in range(num_prompts)]
            assert isinstance(n, int) and isinstance(max_new, int) and isinstance(seeds, list) and len(seeds) == num_prompts
        except Exception:
            return self._with_model(role, model, lambda: super(DistWorker, self).op_generate(a, arrays))
        lens = batch.seq_lens.tolist()
        shares = split_balanced([lens[i] + n * max_new for i in range(num_prompts)], dist.world_size())
        mine = shares[dist.rank()]
        local_args = {k: v for k, v in a.args.items() if k != "seed"}
        local_args["seeds"] = [seeds[i] for i in mine]

        def run_local():
            if not mine:
                return {"finish": [], "seconds": 0.0}, []
            result, out = super(DistWorker, self).op_generate(Args("generate", local_args), take_seqs(arrays, mine, ()))
            rows = torch.split(out["ids"], (out["offsets"][1:] - out["offsets"][:-1]).tolist())
            lps = torch.split(out["logprobs"], (out["offsets"][1:] - out["offsets"][:-1]).tolist())
            per_prompt = [(rows[j * n:(j + 1) * n], lps[j * n:(j + 1) * n], result["finish"][j * n:(j + 1) * n]) for j in range(len(mine))]
            return result, per_prompt

        result, per_prompt = same_outcome_on_all_ranks(lambda: self._with_model(role, model, run_local))
        gathered = all_gather_objects((result["seconds"], per_prompt))
        prompts = merge_ragged(shares, [g[1] for g in gathered], num_prompts)
        rows = [r for p in prompts for r in p[0]]
        lps = [r for p in prompts for r in p[1]]
        finish = [f for p in prompts for f in p[2]]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.int32)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int32), torch.cumsum(lengths, 0, dtype=torch.int32)])
        ids = torch.cat(rows).to(torch.int32) if rows else torch.zeros(0, dtype=torch.int32)
        logprobs = torch.cat(lps).float() if lps else torch.zeros(0, dtype=torch.float32)
        return ({"finish": finish, "num_tokens": int(ids.numel()), "seconds": max(g[0] for g in gathered)},
                {"ids": ids, "offsets": offsets, "logprobs": logprobs})

    def _role_or_none(self, name) -> Role | None:
        return self.roles.get(name) if isinstance(name, str) else None

    @staticmethod
    def _with_model(role: Role, model, fn):
        """Runs fn with role.model temporarily set to `model` (the full-weight generation copy)."""
        saved, role.model = role.model, model
        try:
            return fn()
        finally:
            role.model = saved

    # --- save: full HF folder from rank 0, sharded optimiser state from every rank ------------------

    def op_save(self, a: Args, arrays):
        role = self._role_or_none(a.args.get("role"))
        if role is None or not is_sharded(role.model):
            return super().op_save(a, arrays)
        role, path, with_optim, is_merged = self._save_args(a)
        tmp = f"{path}.tmp-dist"  # one name on every rank: DCP writes each rank's shards into it
        if dist.is_main():
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
        if role.lora is not None:
            self._write_weights(role, tmp, is_merged, keep=dist.is_main())  # collective
        else:
            state = full_state_dict_on_cpu(role.model, keep=dist.is_main())  # collective
            if dist.is_main():
                save_pretrained(plain_model_from(role.model, state), tmp)
            del state
        _barrier()
        if with_optim:
            save_sharded_optimizer(role, tmp)  # collective; optimizer.pt (rank 0) names the DCP folder
        _barrier()
        nbytes = 0
        if dist.is_main():
            for root, _, files in os.walk(tmp):
                nbytes += sum(os.path.getsize(os.path.join(root, f)) for f in files)
            old = f"{path}.old-{os.getpid()}"
            if os.path.exists(path):
                os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        _barrier()  # nobody reads `path` before it exists
        return {"path": path, "bytes": nbytes}, {}


def _barrier() -> None:
    if dist.world_size() > 1:
        tdist.barrier()


def same_outcome_on_all_ranks(fn):
    """Runs fn on every rank; if it raised on any rank, every rank raises (its own error, or the lowest
    failing rank's), so that no rank waits in a collective the others skipped."""
    try:
        value, error = fn(), None
    except Exception as e:
        value, error = None, e
    errors = all_gather_objects(error)
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise error if error is not None else first
    return value


def combine_train_stats(all_stats: list[dict], num_seqs: int) -> dict:
    """Per-rank `train` results → the result of the whole batch: the loss shares add up, metric means
    are re-weighted by each rank's masked tokens, grad_norm and lr are global already."""
    tokens = [s["num_tokens"] for s in all_stats]
    total = sum(tokens)
    out = dict(all_stats[0])
    for k in out:
        if k == "loss":
            out[k] = sum(s[k] for s in all_stats)
        elif k == "num_tokens":
            out[k] = total
        elif k == "num_seqs":
            out[k] = num_seqs
        elif k == "seconds":
            out[k] = max(s[k] for s in all_stats)
        elif k not in ("grad_norm", "lr"):
            out[k] = sum(s[k] * max(t, 1) for s, t in zip(all_stats, tokens)) / max(total, 1)
    return out
