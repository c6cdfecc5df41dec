"""Caption decoding: the official ClipCap greedy and beam search, batched, cached and compiled, plus sampling.

`config` (the options and their defaults), `kv_cache` (GPT-2 forwards with a key/value cache),
`search` (the decoding loops), `generator` (`CaptionGenerator`: buckets, compilation, results).
"""

from image_captioning.generation.config import (
    CLIPCAP_STOP_TOKENS,
    GENERATION_PRESETS,
    GPT2_END_OF_TEXT,
    STRATEGIES,
    GenerationConfig,
    GenerationConfigError,
    resolve_generation_preset,
)
from image_captioning.generation.generator import CaptionGenerator

__all__ = [
    "CLIPCAP_STOP_TOKENS",
    "GENERATION_PRESETS",
    "GPT2_END_OF_TEXT",
    "STRATEGIES",
    "CaptionGenerator",
    "GenerationConfig",
    "GenerationConfigError",
    "resolve_generation_preset",
]
