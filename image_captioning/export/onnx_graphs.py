"""`ClipCap` -> two ONNX graphs via tf2onnx, run with onnxruntime (see `onnx_runtime`).

- `encoder.onnx`: CLIP-preprocessed pixels (N, R, R, 3) -> CLIP, mapper, and GPT-2 over the prefix:
  the first next-token logits (N, V) and the key / value caches `cache_0 ... cache_{2L-1}`, each
  (N, heads, prefix_length + max_length, head_dim).
- `decoder_step.onnx`: token ids (N,), their position `index` and the caches -> next logits and
  `next_cache_0 ...`, the caches with that position written (`generation.kv_cache.LayerCacheForward.step`).

`onnx_config.json` beside them holds what a decoding loop needs (prefix_length, max_length, stop
tokens, layer count). TensorFlow's exact GELU lowers to an `Erfc` op that onnxruntime does not
implement; it is rewritten as 1 - Erf, which is exact. Keras's TensorFlow `slice_update` (the
cache write of keras-hub's attention) lowers to `XlaDynamicUpdateSlice`, which tf2onnx cannot
convert; while the graphs are traced for ONNX it is done with Pad and Where instead (also exact).
"""

import contextlib
import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from image_captioning.export.saved_model import export_config
from image_captioning.generation.kv_cache import LayerCacheForward

ENCODER_FILE = "encoder.onnx"
STEP_FILE = "decoder_step.onnx"
CONFIG_FILE = "onnx_config.json"


def pad_where_slice_update(inputs, start_indices, updates):
    """inputs with `updates` written at `start_indices`, from Pad and Where (ops tf2onnx converts)."""
    inputs = tf.convert_to_tensor(inputs)
    updates = tf.cast(updates, inputs.dtype)
    start = tf.cast(tf.stack(list(start_indices)), tf.int32)
    after = tf.shape(inputs) - start - tf.shape(updates)
    paddings = tf.stack([start, after], axis=1)
    written = tf.pad(tf.ones_like(updates, tf.int8), paddings) > 0
    return tf.where(written, tf.pad(updates, paddings), inputs)


@contextlib.contextmanager
def onnx_convertible_slice_update():
    from keras.src.backend.tensorflow import core

    original = core.slice_update
    core.slice_update = pad_where_slice_update
    try:
        yield
    finally:
        core.slice_update = original


def replace_erfc(model_proto):
    """Rewrites every Erfc node (not an ONNX operator) as Sub(1, Erf(x)); returns how many."""
    import onnx
    from onnx import helper

    graph = model_proto.graph
    count = 0
    for index in reversed(range(len(graph.node))):
        node = graph.node[index]
        if node.op_type != "Erfc":
            continue
        erf_out, one = f"{node.name}_erf", f"{node.name}_one"
        graph.initializer.append(onnx.numpy_helper.from_array(np.array(1.0, np.float32), one))
        replacement = [helper.make_node("Erf", [node.input[0]], [erf_out], name=f"{node.name}_Erf"),
                       helper.make_node("Sub", [one, erf_out], [node.output[0]], name=f"{node.name}_Sub")]
        del graph.node[index]
        for offset, new_node in enumerate(replacement):
            graph.node.insert(index + offset, new_node)
        count += 1
    return count


def rename_outputs(model_proto, names):
    """Gives the graph outputs (in order) the names of the function's flattened outputs."""
    graph = model_proto.graph
    for output, name in zip(graph.output, names):
        old = output.name
        for node in graph.node:
            node.output[:] = [name if value == old else value for value in node.output]
            node.input[:] = [name if value == old else value for value in node.input]
        output.name = name


def convert(function, signature, output_names, path, opset):
    import tf2onnx

    with onnx_convertible_slice_update():
        model_proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=opset)
    replace_erfc(model_proto)
    rename_outputs(model_proto, output_names)
    Path(path).write_bytes(model_proto.SerializeToString())
    return path


def export_onnx(captioner, path, opset=17, **generation):
    """Writes `encoder.onnx`, `decoder_step.onnx` and `onnx_config.json` into the folder `path`.

    Args:
        captioner: a `ClipCap`.
        path: the folder to write.
        opset: the ONNX opset.
        **generation: max_length and stop_tokens for the decoding loop (greedy or beam options
            as for the SavedModel; the loop itself runs outside the graphs).
    """
    config = export_config(captioner, **generation)
    model, decoder = captioner.model, captioner.model.decoder
    forward = LayerCacheForward(decoder)
    prefix_length = model.mapper.prefix_length
    total = prefix_length + config.max_length
    caches = 2 * len(forward.blocks)
    resolution = captioner.resolution
    cache_spec = tf.TensorSpec((None, forward.heads, total, forward.head_dim), tf.float32)
    cache_names = [f"cache_{i}" for i in range(caches)]

    def encode(pixels):
        prefix = model.embed_prefix(tf.cast(model.image_encoder(pixels), tf.float32))
        logits, memory = forward.start(prefix, total)
        return (logits,) + tuple(memory)

    def step(token_ids, index, *memory):
        logits, memory = forward.step(tuple(memory), token_ids, index)
        return (logits,) + tuple(memory)

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    pixels_spec = [tf.TensorSpec((None, resolution, resolution, 3), tf.float32, name="pixels")]
    step_spec = [tf.TensorSpec((None,), tf.int32, name="token_ids"), tf.TensorSpec((), tf.int32, name="index")]
    step_spec += [tf.TensorSpec(cache_spec.shape, tf.float32, name=name) for name in cache_names]
    convert(tf.function(encode), pixels_spec, ["logits"] + cache_names, path / ENCODER_FILE, opset)
    convert(tf.function(step), step_spec, ["logits"] + [f"next_{name}" for name in cache_names], path / STEP_FILE, opset)
    (path / CONFIG_FILE).write_text(json.dumps({
        "resolution": resolution, "prefix_length": prefix_length, "max_length": config.max_length,
        "stop_tokens": list(config.stop_tokens), "caches": caches,
    }, indent=2))
    return path
