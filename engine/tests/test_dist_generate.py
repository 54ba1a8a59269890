"""Data-parallel generation on N = 2 gloo ranks: the prompts are split by expected tokens, each rank
samples its share with the prompts' own seeds from a full-weight copy refreshed from the FSDP shards,
and the rows come back in prompt order, equal to N = 1's (the sampler is counter-based per row)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dist_helpers import run_ranks, run_single  # noqa: E402
from test_train import TINY, arrays_for, make_batch, ragged  # noqa: E402

torch.set_num_threads(1)


def _script():
    g = torch.Generator().manual_seed(5)
    prompts = [torch.randint(0, 16, (int(n),), generator=g).tolist() for n in (3, 9, 1, 5, 2)]
    ids, offsets = ragged(prompts)
    p = {"ids": ids, "offsets": offsets}
    sample = {"n": 3, "temperature": 1.0, "top_p": 0.9, "max_new_tokens": 8, "stop_ids": [3]}
    batch = make_batch(1, num_seqs=6)
    return [
        ("load", {"role": "policy", "config": TINY, "seed": 0, "optim": {"lr": 5e-2}}, {}),
        ("generate", {**sample, "seed": 11}, p),
        ("generate", {**sample, "seeds": [7, 1, 2, 3, 2**40], "top_k": 5}, p),
        ("generate", {"max_new_tokens": 6, "temperature": 0.0}, p),
        ("train", {"role": "policy", "loss": "ppo"}, arrays_for("ppo", batch)),
        ("generate", {**sample, "seed": 11}, p),  # after the update: refreshed weights
        ("generate", {"max_new_tokens": 6}, {"ids": ids[:3], "offsets": offsets[:2]}),  # one prompt, two ranks
        ("generate", {"max_new_tokens": 600}, p),  # prompt + new tokens exceed the context: same error
        ("stats", {}, {}),
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    script = _script()
    return script, run_single(script), run_ranks(script, tmp_path_factory.mktemp("gen"))


def test_same_samples_whatever_the_number_of_ranks(results):
    script, single, multi = results
    for i, (entry, s, m) in enumerate(zip(script, single, multi)):
        assert s[0] == m[0], (i, s, m)
        if entry[0] != "generate":
            continue
        if s[0] == "error":
            assert s[1:] == m[1:], i
            continue
        assert s[1]["finish"] == m[1]["finish"], i
        assert s[1]["num_tokens"] == m[1]["num_tokens"], i
        assert torch.equal(s[2]["offsets"], m[2]["offsets"]), i
        assert torch.equal(s[2]["ids"], m[2]["ids"]), i
        torch.testing.assert_close(s[2]["logprobs"], m[2]["logprobs"], rtol=1e-5, atol=1e-5)


def test_the_update_changed_the_samples_and_the_copy_was_refreshed(results):
    """Guards against a vacuous pass: the samples after the step differ, and the generation copy was
    refreshed twice (at the first generate and after the update) and no more."""
    script, single, multi = results
    assert not torch.equal(multi[1][2]["logprobs"], multi[5][2]["logprobs"])
    assert multi[7][0] == "error" and "max_position_embeddings" in multi[7][2]
    refresh = multi[-1][1]["ops"]["refresh_weights"]
    assert refresh["count"] == 2 and refresh["bytes"] > 0
