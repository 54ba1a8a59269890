"""Engine parity on a real pretrained model: SmolLM2-135M-Instruct (Llama architecture, 30 layers, tied
embeddings, rope θ = 1e5), de-quantised from its GGUF by scripts/setup-fixtures-smollm2.sh (test.sh runs it
first). Our logits against transformers' (max abs difference printed), and greedy continuations token for
token on 20 chat prompts × 128 new tokens against transformers' `generate`."""

import json
import os

import pytest
import torch
from conftest import load_hf

from simplerl_engine.generate import generate
from simplerl_engine.model.masks import positions_from_padding
from simplerl_engine.weights import load_pretrained

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
MODEL_DIR = os.environ.get("SIMPLERL_SMOLLM2_DIR") or os.path.join(CACHE, "simplerl", "fixtures", "smollm2-135m-instruct")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "smollm2", "eval")
LOGITS_TOL = 1e-4  # fp32, as test_model_vs_hf; measured: 0 (the same kernels on both sides), printed with -s
NUM_PROMPTS, MAX_NEW = 20, 128
EOS = 2  # <|im_end|>

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(MODEL_DIR, "model.safetensors")),
    reason=f"no SmolLM2 fixture at {MODEL_DIR}: run scripts/setup-fixtures-smollm2.sh (scripts/test.sh does)",
)


def _problems() -> list[str]:
    out = []
    for name, field in (("gsm8k", "question"), ("math500", "problem")):
        with open(os.path.join(FIXTURES, name, "test.jsonl")) as f:
            out += [json.loads(line)[field] for line in f]
    return out


@pytest.fixture(scope="module")
def models():
    return load_pretrained(MODEL_DIR).eval(), load_hf(MODEL_DIR)


@pytest.fixture(scope="module")
def prompts() -> list[list[int]]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    problems = _problems()[::2][:NUM_PROMPTS // 2] + _problems()[1::2][:NUM_PROMPTS - NUM_PROMPTS // 2]
    chats = [[{"role": "user", "content": p + "\nPlease reason step by step, and put your final answer within \\boxed{}."}] for p in problems]
    return [tok.apply_chat_template(c, add_generation_prompt=True, tokenize=True, return_dict=False) for c in chats]


def _left_pad(prompts: list[list[int]]):
    T = max(map(len, prompts))
    ids = torch.tensor([[EOS] * (T - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (T - len(p)) + [1] * len(p) for p in prompts])
    return ids, mask


@torch.no_grad()
def test_logits_match_transformers(models, prompts):
    ours, ref = models
    ids, mask = _left_pad(prompts[:6])
    expected = ref(input_ids=ids, attention_mask=mask, position_ids=positions_from_padding(mask.bool())).logits
    got = ours(ids, attention_mask=mask)
    is_token = mask.bool()
    diff = (got[is_token] - expected[is_token]).abs().max().item()
    scale = expected[is_token].abs().max().item()
    print(f"\nSmolLM2-135M logits, {int(is_token.sum())} positions: max |ours - transformers| = {diff:.3g} (max |logit| {scale:.3g})")
    assert diff <= LOGITS_TOL, diff
    assert torch.equal(got[is_token].argmax(-1), expected[is_token].argmax(-1))


@torch.no_grad()
def test_greedy_continuations_equal_transformers(models, prompts):
    ours, ref = models
    got = generate(ours, prompts, temperature=0.0, max_new_tokens=MAX_NEW, stop_ids=[EOS], seeds=[0] * len(prompts))
    ids, mask = _left_pad(prompts)
    out = ref.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW, pad_token_id=EOS, eos_token_id=EOS, min_new_tokens=0)
    expected = [row[: row.index(EOS) + 1] if EOS in row else row for row in out[:, ids.shape[1]:].tolist()]
    same = sum(a == b for a, b in zip(got.tokens, expected))
    print(f"\nSmolLM2-135M greedy: {same}/{len(prompts)} continuations identical, {sum(map(len, expected))} tokens")
    for i, (a, b) in enumerate(zip(got.tokens, expected)):
        assert a == b, (i, next((t for t, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))))
    assert all(len(t) == MAX_NEW or t[-1] == EOS for t in got.tokens)
