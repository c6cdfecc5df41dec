"""Options of caption generation, validated once, with errors that say what to change."""

import dataclasses
import math
from typing import Optional, Tuple

STRATEGIES = ("greedy", "beam", "sample")
# ClipCap models stop at "." (GPT-2 id 13), as the official `generate2` / `generate_beam` do.
CLIPCAP_STOP_TOKENS = (13,)
GPT2_END_OF_TEXT = 50256
# Stop ids travel to the compiled function as a fixed-size tensor (padded with -1), so changing
# them never retraces.
MAX_STOP_TOKENS = 8
# Named decoding recipes of other projects' models; a model's "generation" options may name one as
# {"preset": name}, its other fields overriding the preset's (see `resolve_generation_preset`).
GENERATION_PRESETS = {
    # jmisilo/clip-gpt-captioning `Net.forward`: argmax at every step (its temperature divides the
    # logits before a softmax and an argmax, so it never changes the choice), at most `max_len` = 40
    # tokens, stop after <|endoftext|> (kept in the tokens, dropped from the text).
    "clip-gpt-captioning": {"strategy": "greedy", "max_length": 40, "stop_tokens": [GPT2_END_OF_TEXT]},
}


class GenerationConfigError(ValueError):
    """An invalid combination of generation options."""


@dataclasses.dataclass(frozen=True)
class GenerationConfig:
    """How to decode captions.

    Args:
        strategy: "greedy" (official `generate2`), "beam" (official `generate_beam`) or "sample".
        max_length: tokens generated at most per caption, stop token included (the official
            `entry_length`, 67).
        stop_tokens: token ids that end a caption (kept in the output). `(13,)` is "." as in
            the official code; use `(50256,)` for models trained with <|endoftext|>; `()` never
            stops early (exactly `max_length` tokens).
        num_beams: beams for "beam" (official 5).
        temperature: logits are divided by it. Greedy and beam accept it as the official code
            does (it changes beam scores, not the greedy choice); sampling draws from it.
        top_k: sample only among the k most likely tokens (None: no limit).
        top_p: sample only from the smallest set of most likely tokens whose probability reaches
            top_p (nucleus; None or 1.0: no limit).
        num_return_sequences: captions returned per input: 1 for greedy; up to `num_beams` for
            beam (default: all beams, as the official code); any number for sampling.
        seed: seeds sampling (None: a fresh random seed each call).
        use_cache: decode with the key/value cache (False re-runs GPT-2 over the whole sequence
            at every step like the official code: for verification only, it is much slower).
    """

    strategy: str = "greedy"
    max_length: int = 67
    stop_tokens: Tuple[int, ...] = CLIPCAP_STOP_TOKENS
    num_beams: int = 5
    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    num_return_sequences: Optional[int] = None
    seed: Optional[int] = None
    use_cache: bool = True

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise GenerationConfigError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}.")
        if isinstance(self.stop_tokens, int):
            object.__setattr__(self, "stop_tokens", (self.stop_tokens,))
        stop_tokens = tuple(int(t) for t in (self.stop_tokens or ()))
        object.__setattr__(self, "stop_tokens", stop_tokens)
        if len(stop_tokens) > MAX_STOP_TOKENS:
            raise GenerationConfigError(f"At most {MAX_STOP_TOKENS} stop tokens are supported, got {len(stop_tokens)}.")
        if any(t < 0 for t in stop_tokens):
            raise GenerationConfigError(f"stop_tokens must be token ids >= 0, got {stop_tokens}.")
        if not _is_int(self.max_length) or self.max_length < 1:
            raise GenerationConfigError(f"max_length must be an integer >= 1, got {self.max_length!r}.")
        if not isinstance(self.temperature, (int, float)) or not math.isfinite(self.temperature) or self.temperature <= 0:
            raise GenerationConfigError(
                f"temperature must be a finite number > 0, got {self.temperature!r} (use strategy='greedy' for temperature 0)."
            )
        if self.top_k is not None and (not _is_int(self.top_k) or self.top_k < 1):
            raise GenerationConfigError(f"top_k must be None or an integer >= 1, got {self.top_k!r}.")
        if self.top_p is not None and (not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1):
            raise GenerationConfigError(f"top_p must be None or in (0, 1], got {self.top_p!r}.")
        if not _is_int(self.num_beams) or self.num_beams < 1:
            raise GenerationConfigError(f"num_beams must be an integer >= 1, got {self.num_beams!r}.")
        if self.seed is not None and not _is_int(self.seed):
            raise GenerationConfigError(f"seed must be None or an integer, got {self.seed!r}.")
        if self.strategy != "sample" and (self.top_k is not None or self.top_p is not None):
            raise GenerationConfigError(
                f"top_k / top_p only apply to strategy='sample' (got strategy={self.strategy!r}); the official "
                "generate2's top-p mask before argmax does not change the greedy choice, so it is not needed."
            )
        n = self.num_return_sequences
        if n is not None and (not _is_int(n) or n < 1):
            raise GenerationConfigError(f"num_return_sequences must be None or an integer >= 1, got {n!r}.")
        if self.strategy == "greedy" and n not in (None, 1):
            raise GenerationConfigError(
                f"Greedy decoding returns one caption per input, got num_return_sequences={n}: "
                "use strategy='beam' (up to num_beams captions) or strategy='sample'."
            )
        if self.strategy == "beam" and n is not None and n > self.num_beams:
            raise GenerationConfigError(
                f"Beam search returns at most num_beams={self.num_beams} captions, got num_return_sequences={n}."
            )

    @property
    def returned_sequences(self):
        """Captions returned per input."""
        if self.num_return_sequences is not None:
            return self.num_return_sequences
        return self.num_beams if self.strategy == "beam" else 1

    @property
    def rows_per_input(self):
        """Sequences decoded side by side per input (beams, or samples)."""
        if self.strategy == "beam":
            return self.num_beams
        return self.returned_sequences if self.strategy == "sample" else 1

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def resolve_generation_preset(options):
    """`options` with a "preset" name replaced by that preset's fields (the other options win)."""
    options = dict(options or {})
    name = options.pop("preset", None)
    if name is None:
        return options
    if name not in GENERATION_PRESETS:
        raise GenerationConfigError(
            f"Unknown generation preset {name!r} in the model's generation options; known: {', '.join(sorted(GENERATION_PRESETS))}."
        )
    return {**GENERATION_PRESETS[name], **options}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)
