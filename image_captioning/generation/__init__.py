"""Caption decoding: the official ClipCap greedy and beam search, batched, cached and compiled, plus sampling."""

from image_captioning.generation.generation_config import (
    CLIPCAP_STOP_TOKENS,
    GPT2_END_OF_TEXT,
    STRATEGIES,
    GenerationConfig,
    GenerationConfigError,
)
from image_captioning.generation.generator import CaptionGenerator, GeneratedSequence

__all__ = [
    "CLIPCAP_STOP_TOKENS",
    "GPT2_END_OF_TEXT",
    "STRATEGIES",
    "CaptionGenerator",
    "GeneratedSequence",
    "GenerationConfig",
    "GenerationConfigError",
]
