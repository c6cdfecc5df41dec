"""Greedy captioning with the two LiteRT models of `litert_graphs`, on `ai-edge-litert` and NumPy only."""

import numpy as np

from image_captioning.export.greedy_loop import GreedyLoop
from image_captioning.export.litert_graphs import CONFIG_FILE, ENCODER_FILE, STEP_FILE


class LiteRtGreedyCaptioner(GreedyLoop):
    """`GreedyLoop` on the LiteRT interpreter, over a folder written by `ClipCap.export(path, format="litert")`.

    `encoder.tflite` runs once and `decoder_step.tflite` once per token, each through a signature runner that
    takes and returns dicts of named arrays.

    Example: `LiteRtGreedyCaptioner("exports/clipcap-litert").generate(pixels)` gives token ids per image.
    """

    files = (CONFIG_FILE, ENCODER_FILE, STEP_FILE)

    def open_graph(self, path):
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(path)).get_signature_runner()

    def start(self, pixels):
        outputs = self.encoder(pixels=np.asarray(pixels, np.float32))
        return outputs["logits"], [outputs[name] for name in self.cache_names]

    def advance(self, token_ids, index, caches):
        outputs = self.step(token_ids=np.asarray(token_ids, np.int32), index=np.asarray(index, np.int32),
                            **dict(zip(self.cache_names, caches)))
        return outputs["logits"], [outputs[f"next_{name}"] for name in self.cache_names]
