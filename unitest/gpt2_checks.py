"""Checks shared by the tiny and real-size GPT-2 tests."""

import numpy as np
from keras import ops


def incremental_logits(decoder, embeds, prompt_length):
    """Seeds the cache with `prompt_length` positions, then feeds one position at a time."""
    batch, length, _ = embeds.shape
    cache = decoder.init_cache(batch, length)
    hidden, cache = decoder.call_with_cache(embeds[:, :prompt_length], cache, 0)
    outputs = [ops.convert_to_numpy(decoder.logits(hidden))]
    for index in range(prompt_length, length):
        hidden, cache = decoder.call_with_cache(embeds[:, index : index + 1], cache, index)
        outputs.append(ops.convert_to_numpy(decoder.logits(hidden)))
    return np.concatenate(outputs, axis=1)
