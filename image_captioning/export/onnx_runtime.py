"""Greedy captioning with the two ONNX graphs of `onnx_graphs`, on onnxruntime and NumPy only."""

import numpy as np

from image_captioning.export.greedy_loop import GreedyLoop
from image_captioning.export.onnx_graphs import CONFIG_FILE, ENCODER_FILE, STEP_FILE


class OnnxGreedyCaptioner(GreedyLoop):
    """`GreedyLoop` on onnxruntime: `encoder.onnx` once, then `decoder_step.onnx` per token.

    Args:
        path: a folder written by `ClipCap.export(path, format="onnx")`.

    Example: `OnnxGreedyCaptioner("exports/clipcap-onnx").generate(pixels)` gives token ids per image.
    """

    files = (CONFIG_FILE, ENCODER_FILE, STEP_FILE)

    def open_graph(self, path):
        import onnxruntime

        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def start(self, pixels):
        logits, *caches = self.encoder.run(["logits"] + self.cache_names, {"pixels": np.asarray(pixels, np.float32)})
        return logits, caches

    def advance(self, token_ids, index, caches):
        feeds = {"token_ids": np.asarray(token_ids, np.int32), "index": np.asarray(index, np.int32)}
        feeds.update(zip(self.cache_names, caches))
        logits, *caches = self.step.run(["logits"] + [f"next_{name}" for name in self.cache_names], feeds)
        return logits, caches
