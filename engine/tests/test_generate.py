"""Generation: greedy equals transformers, log-probs equal a fresh forward pass, seeds reproduce,
samples do not depend on the rest of the batch, stop / length handling, sampler distribution."""

import itertools
import json
import os

import pytest
import torch
from conftest import load_hf

import simplerl_engine.generate as generate_module
from simplerl_engine.forward import token_logprobs
from simplerl_engine.generate import GenerateError, generate
from simplerl_engine.sampling import row_keys, sample, uniform
from simplerl_engine.weights import load_pretrained

PROMPTS = [[5, 17, 33, 9], [40, 41, 42, 43, 44, 45, 46, 47, 48], [100], [7, 7, 8, 120, 3, 66]]


def _hf_greedy(ref, prompts, max_new_tokens, eos):
    T = max(map(len, prompts))
    ids = torch.tensor([[0] * (T - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (T - len(p)) + [1] * len(p) for p in prompts])
    out = ref.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=0, eos_token_id=eos, min_new_tokens=0)
    return out[:, T:].tolist()


@pytest.mark.parametrize("name", ["qwen2_dir", "llama_tied_dir"])
def test_greedy_equals_transformers(name, request):
    path = request.getfixturevalue(name)
    ours, ref = load_pretrained(path), load_hf(path)
    max_new = 12
    got = generate(ours, PROMPTS, temperature=0.0, max_new_tokens=max_new, seeds=[0] * len(PROMPTS))
    expected = _hf_greedy(ref, PROMPTS, max_new, eos=None)
    assert got.tokens == expected
    assert got.finish == ["length"] * len(PROMPTS)
    # with a stop id taken from the greedy continuation: rows end at (and include) it, like HF's eos
    stop = expected[1][4]
    got = generate(ours, PROMPTS, temperature=0.0, max_new_tokens=max_new, stop_ids=[stop], seeds=[0] * len(PROMPTS))
    expected = _hf_greedy(ref, PROMPTS, max_new, eos=stop)
    for row, exp, finish in zip(got.tokens, expected, got.finish):
        if stop in exp:
            cut = exp.index(stop) + 1
            assert row == exp[:cut] and finish == "stop"
        else:
            assert row == exp and finish == "length"


def _flatten(prompts, out, n):
    ids, offsets, prompt_lens = [], [0], []
    for i, row in enumerate(out.tokens):
        ids += prompts[i // n] + row
        offsets.append(len(ids))
        prompt_lens.append(len(prompts[i // n]))
    return ids, offsets, prompt_lens


@pytest.mark.parametrize("temperature,top_p,top_k", [(1.0, 1.0, 0), (0.7, 0.9, 20), (0.0, 1.0, 0)])
def test_logprobs_equal_fresh_forward(qwen2_dir, temperature, top_p, top_k):
    model, n = load_pretrained(qwen2_dir), 3
    out = generate(model, PROMPTS, n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=10, stop_ids=[3, 4], seeds=[11, 12, 13, 14])
    assert len(out.tokens) == len(PROMPTS) * n and all(len(t) == len(l) for t, l in zip(out.tokens, out.logprobs))
    # the flat wire layout agrees with the per-row lists
    assert out.ids.dtype == torch.int32 and out.offsets.dtype == torch.int32 and out.logprobs_flat.dtype == torch.float32
    assert out.ids.tolist() == list(itertools.chain(*out.tokens)) and out.offsets[-1] == out.num_tokens == out.ids.numel()
    with torch.no_grad():
        fresh, _ = token_logprobs(model, *_flatten(PROMPTS, out, n), temperature=temperature)
    got = torch.tensor(list(itertools.chain(*out.logprobs)))
    assert (fresh - got).abs().max().item() <= 1e-5


def test_same_seeds_same_samples_and_seeds_matter(qwen2_dir):
    model = load_pretrained(qwen2_dir)
    kwargs = dict(n=4, temperature=1.0, top_p=0.95, max_new_tokens=8)
    a = generate(model, PROMPTS, seeds=[1, 2, 3, 4], **kwargs)
    b = generate(model, PROMPTS, seeds=[1, 2, 3, 4], **kwargs)
    c = generate(model, PROMPTS, seeds=[5, 6, 7, 8], **kwargs)
    assert a.tokens == b.tokens and a.logprobs == b.logprobs
    assert a.tokens != c.tokens
    assert len({tuple(t) for t in a.tokens[:4]}) > 1  # the n samples of one prompt differ


def test_samples_independent_of_the_rest_of_the_batch(llama_dir):
    """A prompt's samples depend on its seed and sample index only: alone, or in a batch with longer
    prompts (different padding), at another position, or with other stop rows compacted away."""
    model = load_pretrained(llama_dir)
    kwargs = dict(n=3, temperature=1.0, max_new_tokens=10, stop_ids=[9, 10, 11])
    alone = generate(model, [PROMPTS[0]], seeds=[42], **kwargs)
    mixed = generate(model, [PROMPTS[1], PROMPTS[3], PROMPTS[0], PROMPTS[2]], seeds=[1, 2, 42, 3], **kwargs)
    assert mixed.tokens[6:9] == alone.tokens
    assert mixed.finish[6:9] == alone.finish
    diff = max(abs(x - y) for a, b in zip(mixed.logprobs[6:9], alone.logprobs) for x, y in zip(a, b))
    assert diff <= 1e-5


def test_compaction_changes_nothing(qwen2_dir, monkeypatch):
    """Many rows stop early (a frequent stop id), so the batch is compacted; results equal a run that
    never compacts."""
    model = load_pretrained(qwen2_dir)
    greedy = generate(model, PROMPTS, temperature=0.0, max_new_tokens=4, seeds=[0] * 4)
    stops = sorted({t[0] for t in greedy.tokens} | {t[1] for t in greedy.tokens})
    kwargs = dict(n=4, temperature=0.8, max_new_tokens=16, stop_ids=stops, seeds=[1, 2, 3, 4])
    compacted = generate(model, PROMPTS, **kwargs)
    monkeypatch.setattr(generate_module, "COMPACT_WHEN_ACTIVE_BELOW", 0.0)
    plain = generate(model, PROMPTS, **kwargs)
    assert compacted.tokens == plain.tokens and compacted.finish == plain.finish
    assert 0 < compacted.finish.count("stop") < len(compacted.finish)
    for row, finish in zip(compacted.tokens, compacted.finish):
        assert (finish == "stop") == (row[-1] in stops) and all(t not in stops for t in row[:-1])
        assert finish == "stop" or len(row) == 16
    assert compacted.num_tokens == sum(map(len, compacted.tokens))


def test_rejects_bad_requests(qwen2_dir):
    model = load_pretrained(qwen2_dir)
    with pytest.raises(GenerateError, match="max_position_embeddings"):
        generate(model, [[1] * 500], max_new_tokens=20, seeds=[0])
    with pytest.raises(GenerateError, match="prompt ids"):
        generate(model, [[1, 128]], max_new_tokens=2, seeds=[0])
    with pytest.raises(GenerateError, match="2 seeds for 1 prompts"):
        generate(model, [[1, 2]], max_new_tokens=2, seeds=[0, 1])


def test_sampler_matches_the_distribution():
    """Gumbel-max with counter noise samples softmax(z) (and the truncated, renormalised one)."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 8, generator=gen) * 1.5  # [1, V]
    num_rows = 40000
    keys = row_keys(torch.arange(num_rows), torch.zeros(num_rows, dtype=torch.long))
    batch = logits.expand(num_rows, -1)
    for temperature, top_p, top_k in [(1.0, 1.0, 0), (0.5, 1.0, 0), (1.0, 0.7, 0), (1.0, 1.0, 3)]:
        tokens, logprobs = sample(batch, keys, step=5, temperature=temperature, top_p=top_p, top_k=top_k)
        z = logits[0] / temperature
        probs = torch.softmax(z, -1)
        order = probs.argsort(descending=True)
        keep = torch.zeros(8, dtype=torch.bool)
        mass = 0.0
        for i, v in enumerate(order.tolist()):
            if (top_k and i >= top_k) or mass >= top_p:
                break
            keep[v], mass = True, mass + probs[v].item()
        target = torch.where(keep, probs, 0.0)
        target = target / target.sum()
        freq = torch.bincount(tokens, minlength=8).float() / num_rows
        assert (freq - target).abs().max() < 0.01, (temperature, top_p, top_k, freq, target)
        assert torch.allclose(logprobs, torch.log_softmax(z, -1)[tokens], atol=1e-6)  # before truncation


def test_uniform_is_uniform_and_in_open_interval():
    """The per-row uniforms pass a chi-square test over seeds, over sample indices, and jointly over
    consecutive steps (fixed inputs: deterministic)."""
    num_rows = 200_000
    for keys in (row_keys(torch.arange(num_rows), torch.zeros(num_rows, dtype=torch.long)), row_keys(torch.full((num_rows,), 7), torch.arange(num_rows))):
        u0, u1 = uniform(keys, 0), uniform(keys, 1)
        assert 0 < u0.min() and u0.max() < 1
        counts = torch.bincount((u0 * 50).long(), minlength=50).float()
        assert ((counts - num_rows / 50) ** 2 / (num_rows / 50)).sum() < 90  # 49 dof: p ≈ 3e-4
        pairs = torch.bincount((u0 * 10).long() * 10 + (u1 * 10).long(), minlength=100).float()
        assert ((pairs - num_rows / 100) ** 2 / (num_rows / 100)).sum() < 160  # 99 dof: p ≈ 1e-4


def test_generate_under_bf16_autocast(qwen2_dir):
    """The CUDA training roles generate with fp32 weights under bf16 autocast (cache in bf16)."""
    model = load_pretrained(qwen2_dir)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = generate(model, PROMPTS, n=2, temperature=1.0, max_new_tokens=6, seeds=[1, 2, 3, 4])
        with torch.no_grad():
            fresh, _ = token_logprobs(model, *_flatten(PROMPTS, out, 2))
    got = torch.tensor(list(itertools.chain(*out.logprobs)))
    assert (fresh - got).abs().max().item() <= 0.05  # bf16: batch shapes change rounding


def test_waves_and_prefill_chunks_change_nothing(llama_dir):
    """A KV budget that fits one prompt's rows at a time gives the same samples in 4 waves; zero new
    tokens gives empty rows."""
    model = load_pretrained(llama_dir)
    kwargs = dict(n=2, temperature=1.0, top_k=50, max_new_tokens=7, stop_ids=[5], seeds=[4, 3, 2, 1])
    whole = generate(model, PROMPTS, **kwargs)
    cfg = model.config
    one_prompt = 2 * 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * cfg.head_dim * (9 + 7) * 4
    waves = generate(model, PROMPTS, max_kv_cache_bytes=one_prompt, **kwargs)
    assert whole.num_waves == 1 and waves.num_waves == 4
    assert waves.tokens == whole.tokens and waves.finish == whole.finish
    one_prompt_prefills = generate(model, PROMPTS, max_prefill_tokens=1, **kwargs)
    assert one_prompt_prefills.tokens == whole.tokens
    empty = generate(model, PROMPTS, n=2, max_new_tokens=0, seeds=[0] * 4)
    assert empty.tokens == [[]] * 8 and empty.finish == ["length"] * 8 and empty.num_tokens == 0


WAVES_FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "generation-waves.json")


def _wave_cases():
    with open(WAVES_FIXTURE) as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", _wave_cases(), ids=lambda c: c["name"][:40])
def test_wave_sizing_matches_the_shared_fixture(case):
    """The planner (src/plan/memory.ts) reads the same cases: both sides size waves alike."""
    inputs = {k: case[k] for k in ("num_layers", "num_kv_heads", "head_dim", "seq_len", "item_bytes", "n", "budget_bytes", "max_rows_per_wave")}
    assert generate_module.prompts_per_wave(**inputs) == case["prompts_per_wave"]


def test_generate_runs_the_fixture_waves_and_max_rows_per_wave_changes_nothing(llama_dir):
    """The fixture's tiny-Llama cases through generate itself: its wave count, and the same samples."""
    model = load_pretrained(llama_dir)
    cfg = model.config
    kwargs = dict(n=2, temperature=1.0, top_k=50, max_new_tokens=7, stop_ids=[5], seeds=[4, 3, 2, 1])
    whole = generate(model, PROMPTS, **kwargs)
    for case in (c for c in _wave_cases() if "run" in c):
        assert (cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim) == (case["num_layers"], case["num_kv_heads"], case["head_dim"])
        assert max(len(p) for p in PROMPTS) + kwargs["max_new_tokens"] == case["seq_len"] and len(PROMPTS) == case["run"]["num_prompts"]
        out = generate(model, PROMPTS, max_kv_cache_bytes=case["budget_bytes"], max_rows_per_wave=case["max_rows_per_wave"], **kwargs)
        assert out.num_waves == case["run"]["num_waves"]
        assert out.tokens == whole.tokens and out.finish == whole.finish
    with pytest.raises(GenerateError, match="max_rows_per_wave"):
        generate(model, PROMPTS, max_rows_per_wave=0, **kwargs)
