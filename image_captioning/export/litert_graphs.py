"""`ClipCap` -> two LiteRT (TensorFlow Lite) models: the same encoder pass and cached decoder step as
the ONNX export (`decoder_graphs`), run with `ai-edge-litert` (`litert_runtime`).

`encoder.tflite` (pixels -> logits, cache_0 ...) and `decoder_step.tflite` (token_ids, index,
cache_0 ... -> logits, next_cache_0 ...), each with one signature whose inputs and outputs carry
those names, plus `litert_config.json` for the decoding loop.
"""

import json
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from image_captioning.export.decoder_graphs import convertible_slice_update, decoder_graphs

ENCODER_FILE = "encoder.tflite"
STEP_FILE = "decoder_step.tflite"
CONFIG_FILE = "litert_config.json"


def convert(function, signature, output_names, path, model):
    """Converts as Keras's own LiteRT export does (ExportArchive -> SavedModel -> converter), with one
    `serving_default` signature whose inputs and outputs carry the given names."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", lambda *args: dict(zip(output_names, function(*args))), input_signature=signature)
    with convertible_slice_update(), tempfile.TemporaryDirectory() as saved:
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.experimental_enable_resource_variables = True
        Path(path).write_bytes(converter.convert())
    return path


def export_litert(captioner, path, **generation):
    """Writes `encoder.tflite`, `decoder_step.tflite` and `litert_config.json` into the folder `path`.

    Args:
        captioner: a `ClipCap`.
        path: the folder to write.
        **generation: max_length and stop_tokens for the decoding loop, which runs outside the models.
    """
    graphs = decoder_graphs(captioner, **generation)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    convert(graphs.encode, graphs.encode_signature, ["logits"] + graphs.cache_names, path / ENCODER_FILE, captioner.model)
    convert(graphs.step, graphs.step_signature, ["logits"] + [f"next_{name}" for name in graphs.cache_names],
            path / STEP_FILE, captioner.model)
    (path / CONFIG_FILE).write_text(json.dumps(graphs.loop_config, indent=2))
    return path
