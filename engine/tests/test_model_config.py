"""ModelConfig.from_hf: clear errors naming the field; Llama 3.1 RoPE scaling equals transformers'."""

import pytest
import torch

from simplerl_engine.model.config import ConfigError, ModelConfig
from simplerl_engine.model.rope import rope_inv_freq

BASE = dict(model_type="llama", vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"vocab_size": None}, "missing field 'vocab_size'"),
        ({"model_type": "gpt2"}, "model_type 'gpt2' is not supported"),
        ({"hidden_act": "gelu"}, "hidden_act 'gelu'"),
        ({"use_sliding_window": True}, "use_sliding_window"),
        ({"num_key_value_heads": 3}, "multiple of num_key_value_heads"),
        ({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "rope_type 'yarn'"),
        ({"hidden_size": 64.5}, "hidden_size must be a positive integer"),
    ],
)
def test_bad_configs_fail_with_the_field_named(change, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_hf({**BASE, **change})


def test_llama3_rope_scaling_matches_transformers():
    import transformers
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    scaling = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
    hf = transformers.LlamaConfig(**{k: v for k, v in BASE.items() if k != "model_type"}, rope_parameters={**scaling, "rope_theta": 500000.0})
    expected, _ = ROPE_INIT_FUNCTIONS["llama3"](hf, "cpu")
    cfg = ModelConfig.from_hf(hf.to_dict())
    assert cfg.rope_scaling["rope_type"] == "llama3" and cfg.rope_theta == 500000.0
    assert torch.allclose(rope_inv_freq(cfg), expected, rtol=1e-6)
    assert ModelConfig.from_hf(cfg.to_hf()) == cfg


# config.json of Qwen2.5-0.5B (transformers v4 layout) and Llama-3.2-1B, as published
QWEN25_05B = {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": True, "use_sliding_window": False, "vocab_size": 151936}
LLAMA32_1B = {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0", "use_cache": True, "vocab_size": 128256}


@pytest.mark.parametrize("published,num_params", [(QWEN25_05B, 494_032_768), (LLAMA32_1B, 1_235_814_400)])
def test_real_configs_give_transformers_parameter_names_and_shapes(published, num_params):
    """Built on the meta device (no memory): same state_dict names and shapes as transformers' model."""
    import transformers

    from simplerl_engine.model.transformer import CausalLM

    cfg = ModelConfig.from_hf(published)
    with torch.device("meta"):
        ours = CausalLM(cfg)
        ref = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**published))
    shapes = lambda m: {k: tuple(v.shape) for k, v in m.state_dict().items()}  # noqa: E731
    assert shapes(ours) == shapes(ref)
    assert sum(p.numel() for p in ours.parameters()) == num_params
    assert ModelConfig.from_hf(cfg.to_hf()) == cfg
