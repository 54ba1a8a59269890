"""token_logprobs / token_values: chunked equals unchunked, gradients are right, ragged layout."""

import pytest
import torch

import simplerl_engine.forward as forward_mod
from simplerl_engine.forward import ChunkedLogprobs, ForwardError, plan_micro_batches, plan_sorted_micro_batches, token_logprobs, token_values
from simplerl_engine.weights import build_model, load_pretrained

SEED = 0
LENGTHS, PROMPT_LENS = [9, 5, 14, 3, 7], [4, 5, 2, 1, 6]  # one sequence without response tokens


def _ragged(seed=0, vocab=128):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (sum(LENGTHS),), generator=gen, dtype=torch.int32)
    offsets = torch.tensor([0] + list(torch.tensor(LENGTHS).cumsum(0)), dtype=torch.int32)
    return ids, offsets, torch.tensor(PROMPT_LENS, dtype=torch.int32)


def _reference(model, ids, offsets, prompt_lens, temperature):
    """One sequence at a time, full logits, plain autograd."""
    lps, ents = [], []
    for b in range(len(LENGTHS)):
        seq = ids[offsets[b] : offsets[b + 1]].long()[None]  # [1, n]
        logp = torch.log_softmax(model(seq)[0].float() / temperature, -1)  # [n, V]
        p = int(prompt_lens[b])
        lps.append(logp[p - 1 : -1].gather(-1, seq[0, p:, None]).squeeze(-1))
        ents.append(-(logp.exp() * logp).sum(-1)[p - 1 : -1])
    return torch.cat(lps), torch.cat(ents)


def test_chunked_equals_unchunked_and_layout(llama_tied_dir):
    model = load_pretrained(llama_tied_dir)
    batch = _ragged()
    with torch.no_grad():
        ref_lp, ref_ent = _reference(model, *batch, temperature=0.7)
        for micro_batch_tokens, chunk_elems in [(8192, 1 << 24), (16, 128 * 3), (1, 1)]:
            lp, ent = token_logprobs(model, *batch, temperature=0.7, with_entropy=True, micro_batch_tokens=micro_batch_tokens, logits_chunk_elems=chunk_elems)
            assert lp.shape == (sum(LENGTHS) - sum(PROMPT_LENS),) and lp.dtype == torch.float32
            assert torch.allclose(lp, ref_lp, rtol=1e-6, atol=1e-5) and torch.allclose(ent, ref_ent, rtol=1e-6, atol=1e-5)
        lp, ent = token_logprobs(model, *batch)
        assert ent is None and torch.allclose(lp, _reference(model, *batch, temperature=1.0)[0], rtol=1e-6, atol=1e-5)


def test_gradient_equals_plain_autograd(qwen2_tied_dir):
    """Same loss through the chunked path and through full logits: same parameter gradients (tied
    embeddings, so the lm_head gradient and the embedding gradient meet in one tensor)."""
    batch = _ragged(seed=1)
    num_resp = sum(LENGTHS) - sum(PROMPT_LENS)
    gen = torch.Generator().manual_seed(SEED)
    weights_lp, weights_ent = torch.randn(num_resp, generator=gen), torch.randn(num_resp, generator=gen)
    grads = []
    for chunked in (True, False):
        model = load_pretrained(qwen2_tied_dir)
        if chunked:
            lp, ent = token_logprobs(model, *batch, temperature=0.9, with_entropy=True, micro_batch_tokens=20, logits_chunk_elems=128 * 2)
        else:
            lp, ent = _reference(model, *batch, temperature=0.9)
        ((weights_lp * lp).sum() + (weights_ent * ent).sum()).backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()})
    for k in grads[0]:
        diff, scale = (grads[0][k] - grads[1][k]).abs().max(), grads[1][k].abs().max()
        assert diff <= 1e-5 * scale + 1e-7, (k, diff, scale)  # fp32 rounding only: a wrong term is O(scale)


def test_chunked_logprobs_gradcheck():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(5, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(7, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    y = torch.randint(0, 7, (5,), generator=gen)
    torch.autograd.gradcheck(lambda h, w: ChunkedLogprobs.apply(h, w, y, 0.8, 2), (h, w))
    torch.autograd.gradcheck(lambda h, w: ChunkedLogprobs.apply(h, w, y, 1.0, 3)[0], (h, w))  # entropy unused


def test_token_values_are_the_head_at_the_previous_position(qwen2_dir):
    critic = load_pretrained(qwen2_dir, value_head=True, value_head_init="random", seed=3)
    batch = _ragged(seed=2)
    ids, offsets, prompt_lens = batch
    with torch.no_grad():
        values = token_values(critic, *batch, micro_batch_tokens=10)
        expected = torch.cat([critic(ids[offsets[b] : offsets[b + 1]].long()[None])[0, int(prompt_lens[b]) - 1 : -1] for b in range(len(LENGTHS))])
    assert values.shape == expected.shape and (values - expected).abs().max() <= 1e-5
    assert values.abs().max() > 0


def test_bad_ragged_batches_are_rejected():
    model = build_model(load_pretrained.__globals__["ModelConfig"](model_type="qwen2", vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, head_dim=4, rms_norm_eps=1e-6, rope_theta=1e4, max_position_embeddings=64), seed=0)
    with pytest.raises(ForwardError, match="offsets"):
        token_logprobs(model, [1, 2, 3], [0, 2], [1])
    with pytest.raises(ForwardError, match="prompt_lens 0"):
        token_logprobs(model, [1, 2, 3], [0, 3], [0])
    assert plan_micro_batches([3, 3, 9, 1], 9) == [(0, 2), (2, 3), (3, 4)]


def test_padding_cuts_keep_the_budget_and_the_outputs(qwen2_dir, monkeypatch):
    """On CPU the length-sorted micro-batches are cut further where padding costs more than a pass; the
    cuts stay within the budget, cover every sequence in order, and change outputs only by rounding."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    lengths = [90, 88, 60, 59, 40, 40, 40, 20, 12, 3]
    plan = plan_sorted_micro_batches(lengths, 8192, cpu)
    assert len(plan) > 1 and plan[0][0] == 0 and plan[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in zip(plan, plan[1:]))
    assert sum((e - s) * lengths[s] for s, e in plan) < len(lengths) * lengths[0]
    assert all((e - s) * lengths[s] <= 200 for s, e in plan_sorted_micro_batches(lengths, 200, cpu))
    assert plan_sorted_micro_batches(lengths, 8192, cuda) == plan_micro_batches(lengths, 8192)
    model = load_pretrained(qwen2_dir)
    g = torch.Generator().manual_seed(5)
    lens = [int(x) for x in torch.randint(4, 40, (12,), generator=g)]
    ids = torch.randint(0, model.config.vocab_size, (sum(lens),), generator=g)
    offsets = torch.tensor([0] + lens).cumsum(0)
    prompt_lens = torch.ones(len(lens), dtype=torch.long)
    cut_lp, cut_ent = token_logprobs(model, ids, offsets, prompt_lens, with_entropy=True)
    monkeypatch.setitem(forward_mod.MICRO_BATCH_OVERHEAD_TOKENS, "cpu", 10**9)  # one micro-batch
    one_lp, one_ent = token_logprobs(model, ids, offsets, prompt_lens, with_entropy=True)
    torch.testing.assert_close(cut_lp, one_lp, rtol=0, atol=1e-5)
    torch.testing.assert_close(cut_ent, one_ent, rtol=0, atol=1e-5)


def test_bf16_autocast_like_cuda_training(qwen2_dir):
    """On CUDA a trained role keeps fp32 weights under bf16 autocast; the same path on CPU: the chunked
    backward recomputes logits under the forward's autocast and mixes dtypes without error."""
    batch = _ragged(seed=3)
    model = load_pretrained(qwen2_dir)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lp, ent = token_logprobs(model, *batch, with_entropy=True, logits_chunk_elems=128 * 3)
    (lp.sum() + 0.1 * ent.sum()).backward()
    grad_bf16 = model.lm_head.weight.grad.clone()
    model.zero_grad()
    lp32, ent32 = token_logprobs(model, *batch, with_entropy=True)
    (lp32.sum() + 0.1 * ent32.sum()).backward()
    assert lp.dtype == torch.float32 and (lp - lp32).abs().max() < 0.1
    assert (grad_bf16 - model.lm_head.weight.grad).norm() < 0.05 * model.lm_head.weight.grad.norm()


def test_forward_passes_go_through_the_models_call(qwen2_dir):
    """token_logprobs / token_values enter through model(...), so wrappers' forward hooks run (FSDP2
    unshards the root's lm_head / score there)."""
    batch = _ragged(seed=4)
    calls = []
    for value_head in (False, True):
        model = load_pretrained(qwen2_dir, value_head=value_head)
        model.register_forward_pre_hook(lambda module, args: calls.append(type(module).__name__))
        with torch.no_grad():
            (token_values if value_head else token_logprobs)(model, *batch, micro_batch_tokens=16)
    assert calls.count("CausalLM") > 1 and calls.count("ValueModel") > 1


def test_activation_checkpointing_gives_the_same_gradients(llama_dir):
    batch = _ragged(seed=5)
    grads = []
    for is_checkpointed in (False, True):
        model = load_pretrained(llama_dir)
        model.model.gradient_checkpointing = is_checkpointed
        lp, ent = token_logprobs(model, *batch, with_entropy=True)
        (lp.sum() + ent.sum()).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-6) for a, b in zip(*grads))
