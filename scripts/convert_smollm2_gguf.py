"""De-quantise SmolLM2-135M-Instruct's Q4_1 GGUF into a plain Hugging Face folder (fp32 safetensors).

Called by scripts/setup-fixtures-smollm2.sh. transformers (+ gguf) de-quantises the GGUF; that model is
marked quantised and refuses save_pretrained, so a plain LlamaForCausalLM is built from its config
(quantization_config dropped) and given the state dict, then saved with the tokenizer and chat template.
Usage: python convert_smollm2_gguf.py GGUF_FILE OUT_DIR
"""

import os
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM


def convert(gguf_path: str, out_dir: str) -> None:
    src_dir, name = os.path.split(os.path.abspath(gguf_path))
    quantised = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(src_dir, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.torch_dtype = torch.float32
    plain = LlamaForCausalLM(config)
    missing, unexpected = plain.load_state_dict(quantised.state_dict(), strict=False)
    missing = [k for k in missing if k != "lm_head.weight" or not config.tie_word_embeddings]
    if missing or unexpected:
        raise SystemExit(f"{gguf_path}: state dict mismatch: missing {missing}, unexpected {unexpected}")
    plain.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    if not tokenizer.chat_template:
        raise SystemExit(f"{gguf_path}: the GGUF carries no chat template")
    plain.generation_config.eos_token_id = tokenizer.eos_token_id
    plain.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: convert_smollm2_gguf.py GGUF_FILE OUT_DIR")
    torch.manual_seed(0)
    convert(sys.argv[1], sys.argv[2])
