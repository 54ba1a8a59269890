from .config import ModelConfig
from .transformer import CausalLM, ValueModel

__all__ = ["ModelConfig", "CausalLM", "ValueModel"]
