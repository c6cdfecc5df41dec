from custom_architectures.gpt2.gpt2_decoder import GPT2Decoder

__all__ = ["GPT2Decoder"]
