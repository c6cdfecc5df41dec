"""The two functions the ONNX and LiteRT exports convert: the encoder pass and the cached decoder step.

- encode: CLIP-preprocessed pixels (N, R, R, 3) -> CLIP, mapper, and GPT-2 over the prefix: the
  first next-token logits (N, V) and the key / value caches, 2 per layer, each
  (N, heads, prefix_length + max_length, head_dim).
- step: token ids (N,), their position `index` and the caches -> next logits and the caches with
  that position written (`generation.kv_cache.LayerCacheForward.step`).

Keras's TensorFlow `slice_update` (the cache write of keras-hub's attention, in the prefix pass)
lowers to `XlaDynamicUpdateSlice`, which neither tf2onnx nor the LiteRT converter takes; while
these functions are traced it is done with Pad and Where instead (exact).
"""

import contextlib
import dataclasses

import tensorflow as tf

from image_captioning.export.saved_model import export_config
from image_captioning.generation.kv_cache import LayerCacheForward


def pad_where_slice_update(inputs, start_indices, updates):
    """inputs with `updates` written at `start_indices`, from Pad and Where."""
    inputs = tf.convert_to_tensor(inputs)
    updates = tf.cast(updates, inputs.dtype)
    start = tf.cast(tf.stack(list(start_indices)), tf.int32)
    after = tf.shape(inputs) - start - tf.shape(updates)
    paddings = tf.stack([start, after], axis=1)
    written = tf.pad(tf.ones_like(updates), paddings) > 0
    return tf.where(written, tf.pad(updates, paddings), inputs)


@contextlib.contextmanager
def convertible_slice_update():
    from keras.src.backend.tensorflow import core

    original = core.slice_update
    core.slice_update = pad_where_slice_update
    try:
        yield
    finally:
        core.slice_update = original


@dataclasses.dataclass
class DecoderGraphs:
    """`encode(pixels)` and `step(token_ids, index, *caches)`, both returning (logits, *caches), with
    their input signatures, cache names and the settings a decoding loop needs (`loop_config`)."""

    encode: object
    step: object
    encode_signature: list
    step_signature: list
    cache_names: list
    loop_config: dict


def decoder_graphs(captioner, **generation):
    config = export_config(captioner, **generation)
    model = captioner.model
    forward = LayerCacheForward(model.decoder)
    prefix_length = model.mapper.prefix_length
    total = prefix_length + config.max_length
    resolution = captioner.resolution
    cache_names = [f"cache_{i}" for i in range(2 * len(forward.blocks))]
    cache_shape = (None, forward.heads, total, forward.head_dim)

    def encode(pixels):
        prefix = model.embed_prefix(tf.cast(model.image_encoder(pixels), tf.float32))
        logits, memory = forward.start(prefix, total)
        return (logits,) + tuple(memory)

    def step(token_ids, index, *memory):
        logits, memory = forward.step(tuple(memory), token_ids, index)
        return (logits,) + tuple(memory)

    step_signature = [tf.TensorSpec((None,), tf.int32, name="token_ids"), tf.TensorSpec((), tf.int32, name="index")]
    step_signature += [tf.TensorSpec(cache_shape, tf.float32, name=name) for name in cache_names]
    return DecoderGraphs(
        encode=encode,
        step=step,
        encode_signature=[tf.TensorSpec((None, resolution, resolution, 3), tf.float32, name="pixels")],
        step_signature=step_signature,
        cache_names=cache_names,
        loop_config={"resolution": resolution, "prefix_length": prefix_length, "max_length": config.max_length,
                     "stop_tokens": list(config.stop_tokens), "caches": len(cache_names)},
    )
