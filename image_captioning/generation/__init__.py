"""Caption decoding: the official ClipCap greedy and beam search, batched, cached and compiled, plus sampling.

`config` (the options and their defaults), `kv_cache` (GPT-2 forwards with a key/value cache),
`search` (the decoding loops), `generator` (`CaptionGenerator`: buckets, compilation, results),
`compile_cache` (the persistent XLA cache a second process starts from).

`CaptionGenerator` is imported on first use, so that the CLI can read the decoding options (and
`compile_cache` set TensorFlow's flags) without loading Keras and TensorFlow.
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


def __getattr__(name):
    if name == "CaptionGenerator":
        from image_captioning.generation.generator import CaptionGenerator

        return CaptionGenerator
    raise AttributeError(f"module 'image_captioning.generation' has no attribute {name!r}")


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
