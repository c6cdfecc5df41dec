"""`ClipCap` -> two ONNX graphs via tf2onnx (`decoder_graphs`), run with onnxruntime (`onnx_runtime`).

`encoder.onnx` (pixels -> `logits`, `cache_0 ...`) and `decoder_step.onnx` (`token_ids`, `index`,
`cache_0 ...` -> `logits`, `next_cache_0 ...`), plus `onnx_config.json` for the decoding loop.
TensorFlow's exact GELU lowers to an `Erfc` op that onnxruntime does not implement; it is
rewritten as 1 - Erf, which is exact.
"""

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from image_captioning.export.decoder_graphs import convertible_slice_update, decoder_graphs

ENCODER_FILE = "encoder.onnx"
STEP_FILE = "decoder_step.onnx"
CONFIG_FILE = "onnx_config.json"


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
    """Gives the graph outputs (in order) the names of the function's outputs."""
    graph = model_proto.graph
    for output, name in zip(graph.output, names):
        old = output.name
        for node in graph.node:
            node.output[:] = [name if value == old else value for value in node.output]
            node.input[:] = [name if value == old else value for value in node.input]
        output.name = name


def convert(function, signature, output_names, path, opset):
    import tf2onnx

    with convertible_slice_update():
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
        **generation: max_length and stop_tokens for the decoding loop, which runs outside the graphs.
    """
    graphs = decoder_graphs(captioner, **generation)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    convert(tf.function(graphs.encode), graphs.encode_signature, ["logits"] + graphs.cache_names, path / ENCODER_FILE, opset)
    convert(tf.function(graphs.step), graphs.step_signature, ["logits"] + [f"next_{name}" for name in graphs.cache_names],
            path / STEP_FILE, opset)
    (path / CONFIG_FILE).write_text(json.dumps(graphs.loop_config, indent=2))
    return path
