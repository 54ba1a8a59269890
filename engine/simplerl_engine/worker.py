"""The engine's ops behind one name-dispatched entry, `Worker.call(op, args, arrays)` (nano-vllm
`ModelRunner.call`). Every rank runs the same calls; only rank 0 talks to the controller."""

import os
import resource
import shutil
import time

import torch
from torch import Tensor

from . import PROTOCOL_VERSION, __version__, dist
from .batch import need_array, parse_seq_batch
from .errors import BadRequest, UnknownOp
from .losses import get_loss
from .optim import Optimizer, OptimArgs
from .roles import Role, Roles, check_role, resolve_dtype, set_grad_checkpointing
from .train import PER_TOKEN, model_outputs, train_step

OPS = ("hello", "load", "generate", "forward", "train", "save", "stats", "echo", "shutdown")
OUTPUTS = ("logprobs", "entropy", "values")
OPTIMIZER_FILE = "optimizer.pt"


class Args:
    """Typed access to a request's `args`; whatever is left unread is an unknown field (BadRequest)."""

    def __init__(self, op: str, args):
        if not isinstance(args, dict):
            raise BadRequest(f"{op}: args must be a map, got {type(args).__name__}")
        self.op, self.args, self.read = op, args, set()

    def get(self, name: str, types, default=...):
        """`default` absent: required. A nil value counts as absent (PROTOCOL.md)."""
        self.read.add(name)
        if name not in self.args or (self.args[name] is None and default is not ...):
            if default is ...:
                raise BadRequest(f"{self.op}: args.{name} is required")
            return default
        v = self.args[name]
        if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise BadRequest(f"{self.op}: args.{name} must be {_tname(types)}, got {v!r}")
        if float in (types if isinstance(types, tuple) else (types,)) and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, types):
            raise BadRequest(f"{self.op}: args.{name} must be {_tname(types)}, got {v!r}")
        return v

    def done(self):
        unknown = sorted(set(self.args) - self.read)
        if unknown:
            raise BadRequest(f"{self.op}: args.{unknown[0]} is unknown; valid: {', '.join(sorted(self.read))}")


def _tname(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


def _int_list(v, name: str) -> list[int]:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise BadRequest(f"args.{name} must be a list of ints, got {v!r}")
    return v


class Worker:
    # grad-free mode of `forward`; FSDP (dist_worker.py) needs no_grad: inference tensors would end up in its buffers
    no_grad_mode = staticmethod(torch.inference_mode)

    def __init__(self, device: torch.device, threads: int):
        self.device, self.threads = device, threads
        self.roles = Roles()
        self.op_times: dict[str, dict] = {}
        self.is_shutdown = False

    def call(self, op, args: dict, arrays: dict[str, Tensor]) -> tuple[dict, dict[str, Tensor]]:
        if op not in OPS:
            raise UnknownOp(f"unknown op {op!r}; valid: {', '.join(OPS)}")
        t0 = time.perf_counter()
        try:
            a = Args(op, args)
            return getattr(self, f"op_{op}")(a, arrays)
        except _user_errors() as e:  # the model code's validation errors are the caller's mistake
            raise BadRequest(str(e)) from e
        finally:
            s = self.op_times.setdefault(op, {"count": 0, "seconds": 0.0})
            s["count"] += 1
            s["seconds"] += time.perf_counter() - t0

    # --- ops ---------------------------------------------------------------------------------------

    def op_hello(self, a: Args, arrays):
        a.done()
        cuda = self.device.type == "cuda"
        return {
            "protocol": PROTOCOL_VERSION,
            "engine_version": __version__,
            "torch": torch.__version__,
            "device": str(self.device),
            "dtype": "bfloat16" if cuda else "float32",
            "world_size": dist.world_size(),
            "threads": torch.get_num_threads(),
            "cuda_name": torch.cuda.get_device_name(self.device) if cuda else None,
        }, {}

    def op_load(self, a: Args, arrays):
        from .lora_role import base_view

        name = check_role(a.get("role", str))
        base_of = a.get("base_of", str, None)
        if base_of is None:
            return self._load_model(name, a)
        a.done()
        if name != "ref":
            raise BadRequest(f"load: args.base_of is only for role 'ref' (got role {name!r})")
        self.roles.pop(name, None)
        role = self.roles[name] = base_view(self.roles, name, check_role(base_of, trainable=True))
        return self._load_result(role), {}

    def _load_model(self, name: str, a: Args):
        from .lora_role import attach_lora, parse_lora
        from .model.config import ModelConfig
        from .weights import build_model, load_pretrained

        path = a.get("path", str, None)
        config = a.get("config", dict, None)
        seed = a.get("seed", int, 0)
        optim = a.get("optim", dict, None)
        grad_ckpt = a.get("grad_checkpointing", bool, False)
        resume = a.get("resume_optimizer", str, None)
        dtype_arg = a.get("dtype", str, "auto")
        head_init = a.get("value_head_from", str, "zeros")
        lora = a.get("lora", dict, None)
        a.done()
        if (path is None) == (config is None):
            raise BadRequest("load: give exactly one of args.path (a Hugging Face folder), args.config or args.base_of")
        if optim is not None and name == "ref":
            raise BadRequest("load: args.optim is not allowed for role 'ref' (it never trains)")
        if resume is not None and optim is None:
            raise BadRequest("load: args.resume_optimizer needs args.optim")
        if lora is not None and name == "ref":
            raise BadRequest("load: args.lora is not for role 'ref' (load it with args.base_of 'policy' instead)")
        lora_args, adapter_path = parse_lora(lora) if lora is not None else (None, None)
        opt_args = OptimArgs.parse(optim) if optim is not None else None
        dtype, is_autocast = resolve_dtype(dtype_arg, self.device, trains=optim is not None)
        adapter_dtype = dtype
        if lora_args is not None and is_autocast and dtype_arg == "auto":
            dtype = torch.bfloat16  # LoRA on CUDA: a frozen bf16 base, fp32 adapters under bf16 autocast
        value_head = name == "critic"
        self._unload(name)  # free the old weights before the new ones arrive
        if path is not None:
            if not os.path.isdir(path):
                raise BadRequest(f"load: args.path {path!r} is not a directory")
            model = load_pretrained(path, value_head=value_head, dtype=dtype, device=self.device,
                                    value_head_init=head_init, seed=seed)
        else:
            model = build_model(ModelConfig.from_hf(config), value_head=value_head, dtype=dtype,
                                device=self.device, seed=seed)
        if lora_args is not None:
            attach_lora(model, lora_args, adapter_path, seed, adapter_dtype)  # frozen base, trainable adapters
            if lora_args.dropout > 0:
                torch.manual_seed(seed)  # dropout masks come from the global RNG, seeded at random per process
            if opt_args is None:
                model.requires_grad_(False)
        else:
            model.requires_grad_(opt_args is not None)
        set_grad_checkpointing(model, grad_ckpt)
        model.train(opt_args is not None)
        role = Role(name, model, _hf_config(model), self.device, dtype, is_autocast, None, grad_ckpt,
                    lora=lora_args, base_path=os.path.abspath(path) if path is not None else None)
        if opt_args is not None:
            role.optim = Optimizer(model, opt_args)  # over the trainable parameters only
            if resume is not None:
                state = torch.load(resume, map_location=self.device, weights_only=True)
                if state.get("format") == "dcp":  # written by N > 1 ranks: resharded to this process
                    from .dist_checkpoint import load_sharded_optimizer

                    load_sharded_optimizer(role, resume)
                else:
                    role.optim.load_state_dict(state)
                    _set_rng_state(state.get("rng"))
        self.roles[name] = role
        return self._load_result(role), {}

    def _unload(self, name: str) -> None:
        """Frees a role; a reference that is a view of it goes too (load it again after this one)."""
        self.roles.pop(name, None)
        for other in [r.name for r in self.roles.values() if r.base_of == name]:
            self.roles.pop(other)

    def _load_result(self, role: Role) -> dict:
        return {"num_params": role.num_params, "num_trainable_params": role.num_trainable_params,
                "config": role.config, "dtype": str(role.dtype).removeprefix("torch."), "device": str(self.device),
                "lora": role.lora is not None, "base_of": role.base_of}

    def op_generate(self, a: Args, arrays):
        from .generate import generate
        from .lora_role import generation_weights

        role = self.roles.get_loaded(a.get("role", str, "policy"))
        n = a.get("n", int, 1)
        temperature = a.get("temperature", float, 1.0)
        top_p = a.get("top_p", float, 1.0)
        top_k = a.get("top_k", int, 0)
        max_new_tokens = a.get("max_new_tokens", int)
        stop_ids = _int_list(a.get("stop_ids", list, []), "stop_ids")
        seeds = a.get("seeds", list, None)
        seed = a.get("seed", int, 0)
        max_rows_per_wave = a.get("max_rows_per_wave", int, None)
        a.done()
        batch = parse_seq_batch(arrays, with_prompt_lens=False, vocab_size=_vocab(role))
        num_prompts = batch.num_seqs
        seeds = _int_list(seeds, "seeds") if seeds is not None else [seed + i for i in range(num_prompts)]
        if len(seeds) != num_prompts:
            raise BadRequest(f"generate: args.seeds has {len(seeds)} values for {num_prompts} prompts")
        if max_rows_per_wave is not None and max_rows_per_wave < 1:
            raise BadRequest(f"generate: args.max_rows_per_wave must be >= 1 or null, got {max_rows_per_wave}")
        if n < 1 or max_new_tokens < 0 or temperature < 0 or not 0 < top_p <= 1 or top_k < 0:
            raise BadRequest(f"generate: need n >= 1, max_new_tokens >= 0, temperature >= 0, 0 < top_p <= 1, "
                             f"top_k >= 0; got {n}, {max_new_tokens}, {temperature}, {top_p}, {top_k}")
        prompts = [batch.ids[o0:o1].tolist() for o0, o1 in zip(batch.offsets[:-1].tolist(), batch.offsets[1:].tolist())]
        t0 = time.perf_counter()
        role.model.eval()
        with torch.inference_mode(), role.compute(), generation_weights(role):
            out = generate(role.model, prompts, n=n, temperature=temperature, top_p=top_p, top_k=top_k,
                           max_new_tokens=max_new_tokens, stop_ids=stop_ids, seeds=seeds, max_rows_per_wave=max_rows_per_wave)
        role.model.train(role.optim is not None)
        seconds = time.perf_counter() - t0
        # the output is already flat as on the wire: no per-token Python work
        return ({"finish": list(out.finish), "num_tokens": out.num_tokens, "seconds": seconds},
                {"ids": out.ids, "offsets": out.offsets, "logprobs": out.logprobs_flat})

    def op_forward(self, a: Args, arrays):
        role = self.roles.get_loaded(a.get("role", str))
        outputs = a.get("outputs", list)
        temperature = a.get("temperature", float, 1.0)
        mbt = a.get("micro_batch_tokens", int, None)
        a.done()
        _check_budget(mbt)
        bad = [o for o in outputs if o not in OUTPUTS]
        if bad or not outputs:
            raise BadRequest(f"forward: args.outputs {outputs!r}: each must be one of {', '.join(OUTPUTS)}")
        if "values" in outputs and role.name != "critic":
            raise BadRequest("forward: output 'values' needs role 'critic'")
        if role.name == "critic" and set(outputs) != {"values"}:
            raise BadRequest("forward: role 'critic' only gives 'values'")
        batch = parse_seq_batch(arrays, with_prompt_lens=True, vocab_size=_vocab(role))
        was_training = role.model.training
        role.model.eval()
        try:
            with self.no_grad_mode():
                out = model_outputs(role, batch, logprobs="logprobs" in outputs, entropy="entropy" in outputs,
                                    values="values" in outputs, temperature=temperature, micro_batch_tokens=mbt)
        finally:
            role.model.train(was_training)
        return {"num_tokens": batch.num_resp_tokens}, {k: out[k].float() for k in outputs}

    def op_train(self, a: Args, arrays):
        role = self.roles.trainable(a.get("role", str))
        spec = get_loss(a.get("loss", str))
        la = spec.resolve(a.get("loss_args", dict, None))
        loss_norm = a.get("loss_norm", float, None)
        temperature = a.get("temperature", float, 1.0)
        mbt = a.get("micro_batch_tokens", int, 8192)
        step = a.get("step", bool, True)
        a.done()
        _check_budget(mbt)
        if (spec.output == "values") != (role.name == "critic"):
            raise BadRequest(f"train: loss {spec.name!r} does not fit role {role.name!r} "
                             "(value trains the critic; the others train the policy)")
        if loss_norm is not None and not loss_norm > 0:
            raise BadRequest(f"train: args.loss_norm must be > 0, got {loss_norm}")
        batch = parse_seq_batch(arrays, with_prompt_lens=True, vocab_size=_vocab(role))
        num_t = batch.num_resp_tokens
        tokens = {"mask": need_array(arrays, "mask", (torch.uint8, torch.bool), num_t, optional=True)}
        if tokens["mask"] is None:
            tokens["mask"] = torch.ones(num_t, dtype=torch.uint8)
        required = spec.required(la)
        for k in PER_TOKEN:
            t = need_array(arrays, k, (torch.float32,), num_t, optional=k not in required)
            if t is not None:
                tokens[k] = t
        unknown = sorted(set(arrays) - {"ids", "offsets", "prompt_lens", "mask", *PER_TOKEN})
        if unknown:
            raise BadRequest(f"train: arrays.{unknown[0]} is unknown; valid: ids, offsets, prompt_lens, mask, "
                             + ", ".join(PER_TOKEN))
        return train_step(role, batch, tokens, spec, la, loss_norm=loss_norm, temperature=temperature,
                          micro_batch_tokens=mbt, step=step), {}

    def op_save(self, a: Args, arrays):
        role, path, with_optim, is_merged = self._save_args(a)
        if not dist.is_main():
            return {"path": path, "bytes": 0}, {}
        tmp = f"{path}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        self._write_weights(role, tmp, is_merged)
        if with_optim:
            torch.save({**role.optim.state_dict(), "rng": _rng_state()}, os.path.join(tmp, OPTIMIZER_FILE))
        nbytes = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        old = f"{path}.old-{os.getpid()}"
        if os.path.exists(path):
            os.rename(path, old)  # a folder cannot be renamed onto a non-empty one
        os.rename(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
        return {"path": path, "bytes": nbytes}, {}

    def _save_args(self, a: Args) -> tuple[Role, str, bool, bool]:
        role = self.roles.get_loaded(a.get("role", str))
        path = os.path.abspath(a.get("path", str))
        with_optim = a.get("optimizer", bool, False)
        is_merged = a.get("merged", bool, False)
        a.done()
        if with_optim and role.optim is None:
            raise BadRequest(f"save: args.optimizer is true but role {role.name!r} has no optimiser")
        if is_merged and role.lora is None:
            raise BadRequest(f"save: args.merged needs a role with LoRA adapters; {role.name!r} has none")
        if role.base_of is not None:
            raise BadRequest(f"save: role {role.name!r} is the base of {role.base_of!r}: save that role's base folder instead")
        return role, path, with_optim, is_merged

    @staticmethod
    def _write_weights(role: Role, folder: str, is_merged: bool, keep: bool = True) -> None:
        """A Hugging Face folder, or for a LoRA role its PEFT adapter (is_merged: the merged model)."""
        from .lora_role import write_lora_role
        from .weights import save_pretrained

        if role.lora is not None:
            write_lora_role(role, folder, is_merged=is_merged, keep=keep)
        else:
            save_pretrained(role.model, folder)

    def op_stats(self, a: Args, arrays):
        a.done()
        cuda = self.device.type == "cuda"
        return {
            "device": str(self.device),
            "memory_allocated": torch.cuda.memory_allocated(self.device) if cuda else 0,
            "memory_peak": torch.cuda.max_memory_allocated(self.device) if cuda else 0,
            "rss_bytes": _rss_bytes(),
            "roles": {r.name: {"num_params": r.num_params, "num_trainable_params": r.num_trainable_params, "dtype": str(r.dtype).removeprefix("torch."),
                               "optimizer_steps": r.optim.num_steps if r.optim else 0} for r in self.roles.values()},
            "ops": {k: dict(v) for k, v in self.op_times.items()},
        }, {}

    def op_echo(self, a: Args, arrays):
        """Diagnostics: answers its args and arrays unchanged (transport round-trip cost, byte fidelity)."""
        a.read.update(a.args)
        return dict(a.args), dict(arrays)

    def op_shutdown(self, a: Args, arrays):
        a.done()
        self.is_shutdown = True
        return {}, {}


def _check_budget(micro_batch_tokens: int | None) -> None:
    if micro_batch_tokens is not None and micro_batch_tokens < 1:
        raise BadRequest(f"args.micro_batch_tokens must be >= 1, got {micro_batch_tokens}")


def _user_errors() -> tuple:
    from .forward import ForwardError
    from .generate import GenerateError
    from .model.config import ConfigError
    from .model.lora import LoraError
    from .weights import WeightsError

    return (ConfigError, ForwardError, GenerateError, LoraError, WeightsError, FileNotFoundError)


def _vocab(role: Role) -> int | None:
    return role.config.get("vocab_size")


def _hf_config(model) -> dict:
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "to_hf"):
        return cfg.to_hf()
    return {}


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rng_state() -> dict:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict | None) -> None:
    if not state:
        return
    torch.set_rng_state(state["cpu"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])

