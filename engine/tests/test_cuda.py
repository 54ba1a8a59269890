"""The engine's CUDA paths, on a GPU only (skipped elsewhere): the `train` op with fp32 master weights
under bf16 autocast against the same step in fp32 on the CPU, activation checkpointing under autocast,
`generate` with its KV cache in bf16 (frozen bf16 role and trained fp32 role) against a forward pass,
`save` from the GPU read back by transformers, the socket server on `--device cuda` (plain and through
the launcher at N = 1), and FSDP2 over NCCL at N = 1 (one GPU) against the one-process Worker.
Tolerances are bf16's: ~3 significant digits per operation."""

import math
import sys
from pathlib import Path

import pytest
import torch

if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import run_ranks, run_single  # noqa: E402
from test_server import EngineProc  # noqa: E402
from test_train import TINY, arrays_for, grads, make_batch, ragged  # noqa: E402

from simplerl_engine.worker import Worker  # noqa: E402

CUDA, CPU = torch.device("cuda"), torch.device("cpu")
PROMPTS = [[5, 17, 33, 9], [40, 41, 42, 43, 44, 45, 46, 47, 48], [100], [7, 7, 8, 120, 3, 66]]
# zero gradient in exact arithmetic (softmax ignores the constant q·b_k): AdamW turns its rounding noise
# into ±lr updates on any device (test_dist_train.py)
NOISE_ONLY = ("self_attn.k_proj.bias",)


def _worker(device, role="policy", lr=1e-3, **load):
    w = Worker(device, 1)
    args = {"role": role, "config": TINY, "seed": 0, **load}
    if lr is not None:
        args["optim"] = {"lr": lr}
    w.call("load", args, {})
    return w


def _rel_err(got: dict, want: dict) -> float:
    """‖got − want‖ / ‖want‖ over all tensors at once (on the CPU, fp32)."""
    num = sum(float((got[k].float().cpu() - want[k].float().cpu()).pow(2).sum()) for k in want)
    den = sum(float(want[k].float().cpu().pow(2).sum()) for k in want)
    return math.sqrt(num / den)


def _prompt_arrays(prompts):
    ids, offsets = ragged(prompts)
    return {"ids": ids, "offsets": offsets}


@pytest.mark.parametrize("loss, role", [("ppo", "policy"), ("grpo", "policy"), ("sft", "policy"), ("value", "critic")])
def test_train_step_in_bf16_autocast_with_fp32_master_weights_matches_the_cpu(loss, role):
    batch = arrays_for(loss, make_batch(3, num_seqs=8))
    lr = 1e-3
    cpu, gpu = _worker(CPU, role, lr), _worker(CUDA, role, lr)
    r = gpu.roles[role]
    assert r.dtype == torch.float32 and r.is_autocast and next(r.model.parameters()).is_cuda
    args = {"role": role, "loss": loss, "step": False, "micro_batch_tokens": 24}
    s_cpu, _ = cpu.call("train", args, batch)
    s_gpu, _ = gpu.call("train", args, batch)
    g_cpu, g_gpu = grads(cpu, role), grads(gpu, role)
    assert set(g_cpu) == set(g_gpu) and all(g.dtype == torch.float32 for g in g_gpu.values())
    print(f"\n{loss}: loss {s_gpu['loss']:.6g} (cpu {s_cpu['loss']:.6g}), grad_norm {s_gpu['grad_norm']:.6g} "
          f"(cpu {s_cpu['grad_norm']:.6g}), grad rel err {_rel_err(g_gpu, g_cpu):.2e}")
    assert math.isclose(s_gpu["loss"], s_cpu["loss"], rel_tol=2e-2, abs_tol=1e-3), (s_gpu, s_cpu)
    assert math.isclose(s_gpu["grad_norm"], s_cpu["grad_norm"], rel_tol=3e-2), (s_gpu, s_cpu)
    assert _rel_err(g_gpu, g_cpu) < 3e-2
    # the update (AdamW's first step: ~lr per element) lands on the fp32 master weights
    before = {n: p.detach().cpu().clone() for n, p in r.model.named_parameters()}
    cpu.call("train", {**args, "step": True}, batch)
    gpu.call("train", {**args, "step": True}, batch)
    for n, p in r.model.named_parameters():
        assert p.dtype == torch.float32
        d_gpu = p.detach().cpu() - before[n]
        d_cpu = dict(cpu.roles[role].model.named_parameters())[n].detach() - before[n]
        assert float(d_gpu.abs().max()) > 0.5 * lr, n  # not lost to bf16 rounding
        if n.endswith(NOISE_ONLY):
            continue
        # Adam normalises each gradient element: a tiny one whose sign bf16 flips moves by ±lr
        assert float((d_gpu - d_cpu).abs().max()) <= 2 * lr * 1.01, n
        assert float((d_gpu - d_cpu).abs().mean()) <= 0.25 * lr, n


def test_activation_checkpointing_under_autocast_gives_the_same_gradients():
    batch = arrays_for("sft", make_batch(6, num_seqs=8))
    out = []
    for ckpt in (False, True):
        w = _worker(CUDA, grad_checkpointing=ckpt)
        assert w.roles["policy"].model.model.gradient_checkpointing is ckpt
        w.call("train", {"role": "policy", "loss": "sft", "step": False, "micro_batch_tokens": 16}, batch)
        out.append(grads(w))
    print(f"\ncheckpointing on/off: grad rel err {_rel_err(out[1], out[0]):.2e}")
    assert _rel_err(out[1], out[0]) < 1e-3


@pytest.mark.parametrize("trains", [False, True], ids=["frozen-bf16", "trained-fp32-autocast"])
def test_generate_with_bf16_kv_cache_agrees_with_forward_and_the_cpu(qwen2_dir, trains):
    opt = {"optim": {"lr": 1e-3}} if trains else {}
    cpu, gpu = Worker(CPU, 1), Worker(CUDA, 1)
    cpu.call("load", {"role": "policy", "path": qwen2_dir}, {})
    r, _ = gpu.call("load", {"role": "policy", "path": qwen2_dir, **opt}, {})
    assert r["dtype"] == ("float32" if trains else "bfloat16")
    greedy = {"temperature": 0.0, "max_new_tokens": 8}
    _, want = cpu.call("generate", greedy, _prompt_arrays(PROMPTS))
    _, got = gpu.call("generate", greedy, _prompt_arrays(PROMPTS))
    rows = lambda o: [row.tolist() for row in torch.split(o["ids"], (o["offsets"][1:] - o["offsets"][:-1]).tolist())]  # noqa: E731
    # other kernels may break a near-tie differently in bf16: the first tokens must agree
    assert [row[:3] for row in rows(got)] == [row[:3] for row in rows(want)]
    assert got["ids"].device.type == "cpu" and got["logprobs"].dtype == torch.float32
    # sampled rows with stops (compaction), scored again by the forward op: the cache held the right keys
    sample = {"n": 3, "temperature": 0.8, "top_p": 0.95, "max_new_tokens": 12, "stop_ids": [int(rows(want)[1][2])], "seed": 5}
    res, out = gpu.call("generate", sample, _prompt_arrays(PROMPTS))
    seqs, prompt_lens = [], []
    for i, row in enumerate(rows(out)):
        seqs.append(PROMPTS[i // 3] + row)
        prompt_lens.append(len(PROMPTS[i // 3]))
    ids, offsets = ragged(seqs)
    _, fwd = gpu.call("forward", {"role": "policy", "outputs": ["logprobs"], "temperature": 0.8},
                      {"ids": ids, "offsets": offsets, "prompt_lens": torch.tensor(prompt_lens, dtype=torch.int32)})
    assert fwd["logprobs"].shape == out["logprobs"].shape
    print(f"\ngenerate vs forward log-probs: max |diff| {float((fwd['logprobs'].cpu() - out['logprobs']).abs().max()):.3g}")
    assert float((fwd["logprobs"].cpu() - out["logprobs"]).abs().max()) < 0.1
    assert res["num_tokens"] == out["ids"].numel()


def test_save_from_the_gpu_loads_in_transformers_and_the_critic_trains(tmp_path):
    import transformers

    w = _worker(CUDA, lr=1e-2)
    batch = make_batch(4, num_seqs=8)
    w.call("train", {"role": "policy", "loss": "ppo"}, arrays_for("ppo", batch))
    w.call("save", {"role": "policy", "path": str(tmp_path / "p"), "optimizer": True}, {})
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(tmp_path / "p"), dtype=torch.float32).eval()
    ids = batch["ids"][:20].long()[None]
    with torch.no_grad():
        ours = w.roles["policy"].model(ids.to(CUDA)).float().cpu()  # fp32 master weights, no autocast
        theirs = hf(ids).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-3, atol=1e-4)
    # resume onto the GPU, and a critic from the policy folder
    r = Worker(CUDA, 1)
    r.call("load", {"role": "policy", "path": str(tmp_path / "p"), "optim": {"lr": 1e-2},
                    "resume_optimizer": str(tmp_path / "p" / "optimizer.pt")}, {})
    assert r.roles["policy"].optim.num_steps == 1
    r.call("load", {"role": "critic", "path": str(tmp_path / "p"), "optim": {"lr": 1e-3}}, {})
    seq = {k: batch[k] for k in ("ids", "offsets", "prompt_lens")}
    _, v = r.call("forward", {"role": "critic", "outputs": ["values"]}, seq)
    stats, _ = r.call("train", {"role": "critic", "loss": "value"}, {**arrays_for("value", batch), "old_values": v["values"]})
    assert stats["grad_norm"] > 0 and math.isfinite(stats["loss"])


@pytest.mark.parametrize("launched", [False, True], ids=["python", "launcher-n1"])
def test_server_on_cuda(launched):
    launcher = [sys.executable, "-m", "simplerl_engine.launch", "--standalone", "--nproc-per-node", "1"] if launched else None
    e = EngineProc(device="cuda", launcher=launcher)
    try:
        hello, _ = e.ok("hello")
        assert hello["device"].startswith("cuda") and hello["dtype"] == "bfloat16" and hello["cuda_name"]
        assert hello["world_size"] == 1
        r, _ = e.ok("load", {"role": "policy", "config": TINY, "optim": {"lr": 1e-3}})
        assert r["dtype"] == "float32" and r["device"].startswith("cuda")
        res, out = e.ok("generate", {"n": 2, "max_new_tokens": 6, "seed": 1}, _prompt_arrays([[1, 2, 3], [4, 5]]))
        assert out["ids"].numel() == res["num_tokens"] == 24
        stats, _ = e.ok("train", {"role": "policy", "loss": "sft"}, arrays_for("sft", make_batch(1)))
        assert math.isfinite(stats["loss"]) and stats["grad_norm"] > 0
        s, _ = e.ok("stats")
        assert s["memory_peak"] > 0 and s["roles"]["policy"]["optimizer_steps"] == 1
        e.ok("shutdown")
        rc = e.proc.wait(60)
        assert rc == 0, e.stderr_text()[-4000:]
    finally:
        e.close()


def _nccl_script(path: str):
    a, b = make_batch(1, num_seqs=7), make_batch(2, num_seqs=6)
    seq = {k: a[k] for k in ("ids", "offsets", "prompt_lens")}
    optim = {"lr": 1e-4, "grad_clip": 0.5}
    p = _prompt_arrays(PROMPTS)
    return [
        ("load", {"role": "policy", "path": path, "optim": optim}, {}),
        ("load", {"role": "ref", "path": path}, {}),
        ("weights", "policy"),
        ("forward", {"role": "policy", "outputs": ["logprobs", "entropy"], "micro_batch_tokens": 24}, seq),
        ("forward", {"role": "ref", "outputs": ["logprobs"]}, seq),
        ("generate", {"temperature": 0.0, "max_new_tokens": 8}, p),
        ("train", {"role": "policy", "loss": "ppo", "loss_args": {"kl_coef": 0.1}, "micro_batch_tokens": 20}, arrays_for("ppo", a)),
        ("train", {"role": "policy", "loss": "sft", "loss_norm": 40.0}, arrays_for("sft", b)),
        ("weights", "policy"),
        ("generate", {"n": 2, "temperature": 1.0, "top_p": 0.9, "max_new_tokens": 8, "seed": 3}, p),
        ("stats", {}, {}),
    ]


def test_fsdp2_over_nccl_at_one_rank_equals_one_process(qwen2_dir, tmp_path):
    """The N > 1 code (DistWorker: FSDP2 with a bf16 MixedPrecisionPolicy, NCCL collectives, the
    generation copy refreshed from the shards) on one GPU, against the N = 1 Worker on the same GPU.
    The two differ by more than rounding: FSDP gathers bf16 parameters, so embeddings, norms and the
    residual stream are bf16, where the Worker's autocast keeps them fp32."""
    script = _nccl_script(qwen2_dir)
    single = run_single(script, "cuda")
    multi = run_ranks(script, str(tmp_path / "nccl"), world_size=1, device="cuda")
    assert [r[0] for r in single] == [r[0] for r in multi] == ["ok" if e[0] != "weights" else "weights" for e in script], multi
    by_op = lambda res, op: [r for e, r in zip(script, res) if e[0] == op]  # noqa: E731
    w0, w1 = [r[1] for r in by_op(single, "weights")], [r[1] for r in by_op(multi, "weights")]
    for k in w0[0]:
        torch.testing.assert_close(w1[0][k], w0[0][k], rtol=0, atol=0)  # loaded the same
        # two AdamW steps at lr 1e-4: each element moves ≤ 2e-4; a flipped tiny gradient costs ≤ 4e-4
        assert float((w1[1][k] - w0[1][k]).abs().max()) <= 4.1e-4, k
        assert not torch.equal(w0[1][k], w0[0][k]) or k.endswith("k_proj.bias"), k
    print("\nnccl N=1 vs Worker: max |weight diff| after 2 steps",
          max(float((w1[1][k] - w0[1][k]).abs().max()) for k in w0[0]))
    for s, m in zip(by_op(single, "train"), by_op(multi, "train")):
        print("  train loss", s[1]["loss"], m[1]["loss"], "grad_norm", s[1]["grad_norm"], m[1]["grad_norm"])
    for s, m in zip(by_op(single, "forward"), by_op(multi, "forward")):
        print("  forward max |diff|", {k: float((s[2][k] - m[2][k]).abs().max()) for k in s[2]})
        for k in s[2]:  # bf16 rounding of the residual stream: relative to the values' scale
            assert float((s[2][k] - m[2][k]).abs().max()) <= 0.02 * float(s[2][k].abs().max()) + 0.05, k
    for s, m in zip(by_op(single, "train"), by_op(multi, "train")):
        assert math.isclose(s[1]["loss"], m[1]["loss"], rel_tol=5e-2, abs_tol=1e-2), (s[1], m[1])
        assert math.isclose(s[1]["grad_norm"], m[1]["grad_norm"], rel_tol=5e-2), (s[1], m[1])
    g0, g1 = by_op(single, "generate"), by_op(multi, "generate")
    rows = lambda o: [r.tolist() for r in torch.split(o["ids"], (o["offsets"][1:] - o["offsets"][:-1]).tolist())]  # noqa: E731
    assert [r[:3] for r in rows(g1[0][2])] == [r[:3] for r in rows(g0[0][2])]
    assert g1[1][1]["num_tokens"] == g0[1][1]["num_tokens"] == 8 * 2 * len(PROMPTS)
    assert bool(torch.isfinite(g1[1][2]["logprobs"]).all())
    refresh = multi[-1][1]["ops"]["refresh_weights"]
    assert refresh["count"] == 2 and refresh["bytes"] > 0  # before the first generate and after the updates
