"""ModelConfig: the architecture of a Qwen2 / Llama decoder, read from and written back to a Hugging
Face `config.json` (transformers v4 style `rope_theta` / `rope_scaling` and v5 style `rope_parameters`
both read; both written so that either version, and vLLM, load our checkpoints)."""

from dataclasses import dataclass, field, fields

SUPPORTED_MODEL_TYPES = ("qwen2", "llama")
SUPPORTED_ROPE_TYPES = ("default", "llama3")
CONFIG_ERROR = "config.json"  # prefix of every config error message, so callers and tests can match it

# Architecture names written to config.json per model type and head.
ARCHITECTURES = {
    ("qwen2", False): "Qwen2ForCausalLM",
    ("qwen2", True): "Qwen2ForSequenceClassification",
    ("llama", False): "LlamaForCausalLM",
    ("llama", True): "LlamaForSequenceClassification",
}


class ConfigError(ValueError):
    pass


@dataclass
class ModelConfig:
    model_type: str  # "qwen2" | "llama"
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    max_position_embeddings: int
    tie_word_embeddings: bool = False
    attention_bias: bool = False  # bias on q/k/v projections (always on for qwen2)
    o_proj_bias: bool = False  # bias on the attention output projection (llama `attention_bias`)
    mlp_bias: bool = False
    rope_scaling: dict | None = None  # None = default RoPE; {"rope_type": "llama3", ...} for Llama 3.1+
    initializer_range: float = 0.02
    extra: dict = field(default_factory=dict)  # other config.json fields (token ids, ...), kept on save

    def __post_init__(self):
        def check(ok: bool, msg: str):
            if not ok:
                raise ConfigError(f"{CONFIG_ERROR}: {msg}")

        check(self.model_type in SUPPORTED_MODEL_TYPES, f"model_type {self.model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})")
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim", "max_position_embeddings"):
            value = getattr(self, name)
            check(isinstance(value, int) and not isinstance(value, bool) and value > 0, f"{name} must be a positive integer, got {value!r}")
        check(self.num_attention_heads % self.num_key_value_heads == 0, f"num_attention_heads ({self.num_attention_heads}) must be a multiple of num_key_value_heads ({self.num_key_value_heads})")
        check(self.head_dim % 2 == 0, f"head_dim ({self.head_dim}) must be even for RoPE")
        rope_type = (self.rope_scaling or {}).get("rope_type", "default")
        check(rope_type in SUPPORTED_ROPE_TYPES, f"rope_type {rope_type!r} is not supported (supported: {', '.join(SUPPORTED_ROPE_TYPES)})")

    @property
    def num_kv_groups(self) -> int:
        return self.num_attention_heads // self.num_key_value_heads

    @classmethod
    def from_hf(cls, d: dict) -> "ModelConfig":
        d = dict(d)

        def need(name: str):
            if d.get(name) is None:
                raise ConfigError(f"{CONFIG_ERROR}: missing field {name!r}")
            return d.pop(name)

        model_type = need("model_type")
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ConfigError(f"{CONFIG_ERROR}: model_type {model_type!r} is not supported (supported: {', '.join(SUPPORTED_MODEL_TYPES)})")
        act = d.pop("hidden_act", "silu")
        if act != "silu":
            raise ConfigError(f"{CONFIG_ERROR}: hidden_act {act!r} is not supported (only 'silu')")
        if d.pop("use_sliding_window", False):
            raise ConfigError(f"{CONFIG_ERROR}: use_sliding_window=true is not supported")
        for name in ("sliding_window", "max_window_layers", "layer_types", "architectures", "dtype", "torch_dtype", "transformers_version", "attention_dropout", "use_cache", "num_labels", "id2label", "label2id"):
            d.pop(name, None)  # derived or irrelevant to the math; rewritten on save
        if d.pop("pretraining_tp", 1) not in (1, None):
            raise ConfigError(f"{CONFIG_ERROR}: pretraining_tp > 1 is not supported")

        hidden_size = need("hidden_size")
        num_attention_heads = need("num_attention_heads")
        num_key_value_heads = d.pop("num_key_value_heads", None) or num_attention_heads
        head_dim = d.pop("head_dim", None) or hidden_size // num_attention_heads

        # RoPE: v5 `rope_parameters` {"rope_type", "rope_theta", ...} or v4 `rope_theta` + `rope_scaling`.
        rope_params = d.pop("rope_parameters", None)
        rope_scaling = d.pop("rope_scaling", None)
        rope_theta = d.pop("rope_theta", None)
        if rope_params is not None:
            rope_params = dict(rope_params)
            rope_theta = rope_params.pop("rope_theta", rope_theta)
            rope_scaling = rope_params if rope_params.get("rope_type", "default") != "default" else None
        if rope_scaling is not None:
            rope_scaling = dict(rope_scaling)
            if "type" in rope_scaling and "rope_type" not in rope_scaling:
                rope_scaling["rope_type"] = rope_scaling.pop("type")
            if rope_scaling.get("rope_type", "default") == "default":
                rope_scaling = None
        if rope_theta is None:
            rope_theta = 10000.0

        attention_bias = d.pop("attention_bias", False)
        return cls(
            model_type=model_type,
            vocab_size=need("vocab_size"),
            hidden_size=hidden_size,
            intermediate_size=need("intermediate_size"),
            num_hidden_layers=need("num_hidden_layers"),
            num_attention_heads=num_attention_heads,
            num_key_value_heads=num_key_value_heads,
            head_dim=head_dim,
            rms_norm_eps=float(d.pop("rms_norm_eps", 1e-6)),
            rope_theta=float(rope_theta),
            max_position_embeddings=need("max_position_embeddings"),
            tie_word_embeddings=bool(d.pop("tie_word_embeddings", False)),
            attention_bias=True if model_type == "qwen2" else bool(attention_bias),
            o_proj_bias=False if model_type == "qwen2" else bool(attention_bias),
            mlp_bias=bool(d.pop("mlp_bias", False)),
            rope_scaling=rope_scaling,
            initializer_range=float(d.pop("initializer_range", 0.02)),
            extra=d,
        )

    def to_hf(self, *, value_head: bool = False, dtype: str = "float32") -> dict:
        d = dict(self.extra)
        own = {f.name for f in fields(self)} - {"extra", "rope_scaling", "o_proj_bias"}
        d.update({name: getattr(self, name) for name in sorted(own)})
        d["architectures"] = [ARCHITECTURES[(self.model_type, value_head)]]
        d["hidden_act"] = "silu"
        d["dtype"] = dtype  # transformers v5 name
        d["torch_dtype"] = dtype  # transformers v4 name
        d["use_cache"] = True
        if self.model_type == "qwen2":
            del d["attention_bias"]  # implied by the architecture
            d["use_sliding_window"] = False
            del d["mlp_bias"]
        d["rope_scaling"] = dict(self.rope_scaling) if self.rope_scaling else None
        d["rope_parameters"] = {"rope_type": "default", **(self.rope_scaling or {}), "rope_theta": self.rope_theta}
        if value_head:
            d["num_labels"] = 1
            d["id2label"] = {"0": "LABEL_0"}
            d["label2id"] = {"LABEL_0": 0}
        return d
