from custom_architectures.gpt2.gpt2_block_view import GPT2BlockView, gpt2_block_view
from custom_architectures.gpt2.gpt2_decoder import GPT2Decoder

__all__ = ["GPT2BlockView", "GPT2Decoder", "gpt2_block_view"]
