"""Weights I/O: our save loads in transformers with the same logits, sharded checkpoints load, tied
and untied embeddings, critic heads, atomic overwrite, clear errors."""

import json
import os

import pytest
import torch
from conftest import hf_config, load_hf, randomize

from simplerl_engine.model.config import ModelConfig
from simplerl_engine.weights import WeightsError, build_model, load_pretrained, save_pretrained

IDS = torch.tensor([[3, 50, 7, 99, 12, 64, 1, 2], [8, 8, 9, 120, 33, 45, 6, 17]])


@torch.no_grad()
def test_save_then_transformers_load_gives_same_logits(any_checkpoint, tmp_path):
    ours = load_pretrained(any_checkpoint)
    out = str(tmp_path / "saved")
    num_bytes = save_pretrained(ours, out)
    assert num_bytes == sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    assert sorted(os.listdir(out)) == ["config.json", "generation_config.json", "model.safetensors"]
    ref = load_hf(out)
    assert (ref(input_ids=IDS).logits - ours(IDS)).abs().max() <= 1e-4
    assert (load_pretrained(out)(IDS) - ours(IDS)).abs().max() == 0
    assert ref.config.tie_word_embeddings == ours.config.tie_word_embeddings


def test_tied_checkpoint_shares_one_tensor_and_saves_it_once(qwen2_tied_dir, tmp_path):
    from safetensors import safe_open

    model = load_pretrained(qwen2_tied_dir)
    assert model.lm_head.weight is model.model.embed_tokens.weight
    save_pretrained(model, str(tmp_path / "t"))
    with safe_open(str(tmp_path / "t" / "model.safetensors"), "pt") as f:
        assert "lm_head.weight" not in f.keys() and "model.embed_tokens.weight" in f.keys()


@torch.no_grad()
def test_sharded_checkpoint_loads(tmp_path):
    import transformers

    torch.manual_seed(0)
    ref = transformers.AutoModelForCausalLM.from_config(hf_config("qwen2"))
    randomize(ref, 7)
    ref.save_pretrained(str(tmp_path), max_shard_size="40KB")
    assert os.path.isfile(tmp_path / "model.safetensors.index.json")
    assert len([f for f in os.listdir(tmp_path) if f.endswith(".safetensors")]) > 1
    ours = load_pretrained(str(tmp_path))
    assert (ref.eval()(input_ids=IDS).logits - ours(IDS)).abs().max() <= 1e-4


@torch.no_grad()
def test_our_sharded_save_loads_in_transformers_and_ours(llama_dir, tmp_path):
    ours = load_pretrained(llama_dir)
    save_pretrained(ours, str(tmp_path / "s"), max_shard_bytes=60_000)
    files = sorted(os.listdir(tmp_path / "s"))
    assert "model.safetensors.index.json" in files and "model.safetensors" not in files
    assert len([f for f in files if f.endswith(".safetensors")]) > 2
    assert (load_hf(str(tmp_path / "s"))(input_ids=IDS).logits - ours(IDS)).abs().max() <= 1e-4
    assert torch.equal(load_pretrained(str(tmp_path / "s"))(IDS), ours(IDS))


@torch.no_grad()
def test_critic_from_policy_folder_and_round_trip(qwen2_dir, tmp_path):
    import transformers

    critic = load_pretrained(qwen2_dir, value_head=True)  # policy folder: no score.weight
    assert critic.score.weight.abs().sum() == 0 and critic(IDS).abs().max() == 0
    critic = load_pretrained(qwen2_dir, value_head=True, value_head_init="random", seed=5)
    out = str(tmp_path / "critic")
    save_pretrained(critic, out)
    again = load_pretrained(out, value_head=True)
    assert torch.equal(again(IDS), critic(IDS))
    # transformers reads it as a sequence classifier with the same head
    ref = transformers.AutoModelForSequenceClassification.from_pretrained(out, dtype=torch.float32).eval()
    hidden = ref.model(input_ids=IDS).last_hidden_state
    assert (ref.score(hidden).squeeze(-1) - critic(IDS)).abs().max() <= 1e-4
    # an OpenRLHF-style critic names the head value_head.weight
    from safetensors.torch import load_file, save_file

    weights = load_file(os.path.join(out, "model.safetensors"))
    weights["value_head.weight"] = weights.pop("score.weight")
    save_file(weights, os.path.join(out, "model.safetensors"))
    assert torch.equal(load_pretrained(out, value_head=True).score.weight, critic.score.weight)
    # a policy can be loaded from the critic's backbone only if it has an lm_head: it does not
    with pytest.raises(WeightsError, match="lm_head.weight"):
        load_pretrained(out)


def test_bf16_load_and_save(qwen2_dir, tmp_path):
    model = load_pretrained(qwen2_dir, dtype=torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in model.parameters())
    save_pretrained(model, str(tmp_path / "b"))
    assert json.load(open(tmp_path / "b" / "config.json"))["dtype"] == "bfloat16"
    with torch.no_grad():
        ref = load_pretrained(qwen2_dir)(IDS)
        got = load_pretrained(str(tmp_path / "b"))(IDS)
    assert (ref - got).abs().max() < 0.1 * ref.abs().max()


def test_overwrite_is_atomic_and_leaves_no_temporaries(qwen2_dir, tmp_path):
    out = tmp_path / "ckpt"
    a = build_model(load_pretrained(qwen2_dir).config, seed=1)
    b = build_model(a.config, seed=2)
    save_pretrained(a, str(out))
    save_pretrained(b, str(out))
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]
    with torch.no_grad():
        assert torch.equal(load_pretrained(str(out))(IDS), b(IDS))


def test_build_model_seed_is_deterministic(qwen2_dir):
    cfg = load_pretrained(qwen2_dir).config
    a, b, c = build_model(cfg, seed=3), build_model(cfg, seed=3), build_model(cfg, seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa) and not torch.equal(sa["lm_head.weight"], sc["lm_head.weight"])
    assert torch.equal(sa["model.layers.0.self_attn.q_proj.bias"], torch.zeros(64))
    critic = build_model(cfg, value_head=True, seed=3)
    assert set(critic.state_dict()) == (set(sa) - {"lm_head.weight"}) | {"score.weight"}


def test_load_errors_name_the_problem(qwen2_dir, tmp_path):
    with pytest.raises(WeightsError, match="no config.json"):
        load_pretrained(str(tmp_path))
    (tmp_path / "config.json").write_text(open(os.path.join(qwen2_dir, "config.json")).read())
    with pytest.raises(WeightsError, match="model.safetensors"):
        load_pretrained(str(tmp_path))
    bad = tmp_path / "wrong_shape"
    bad.mkdir()
    d = json.load(open(os.path.join(qwen2_dir, "config.json")))
    d["intermediate_size"] = 96
    (bad / "config.json").write_text(json.dumps(d))
    os.symlink(os.path.join(qwen2_dir, "model.safetensors"), bad / "model.safetensors")
    with pytest.raises(WeightsError, match="mlp.*shape"):
        load_pretrained(str(bad))


def test_config_round_trip_and_v4_style(qwen2_dir):
    d = json.load(open(os.path.join(qwen2_dir, "config.json")))
    cfg = ModelConfig.from_hf(d)
    assert cfg.rope_theta == 10000.0 and cfg.attention_bias and not cfg.o_proj_bias and cfg.head_dim == 16
    assert ModelConfig.from_hf(cfg.to_hf()) == cfg
    v4 = {k: v for k, v in d.items() if k != "rope_parameters"} | {"rope_theta": 1e6}
    assert ModelConfig.from_hf(v4).rope_theta == 1e6
