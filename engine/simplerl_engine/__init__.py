"""simplerl_engine: the PyTorch worker of simplerl. It speaks token ids and per-token arrays over a
Unix socket (see engine/PROTOCOL.md) and knows no tokenizer, dataset or reward."""

__version__ = "0.1.0"
PROTOCOL_VERSION = 1
