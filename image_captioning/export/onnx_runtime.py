"""Greedy captioning with the two ONNX graphs of `onnx_graphs`, on onnxruntime and NumPy only."""

from pathlib import Path

import numpy as np

from image_captioning.export.greedy_loop import GreedyLoop
from image_captioning.export.onnx_graphs import CONFIG_FILE, ENCODER_FILE, STEP_FILE


class OnnxGreedyCaptioner(GreedyLoop):
    """Runs `encoder.onnx` once and `decoder_step.onnx` per token (see `GreedyLoop`).

    Args:
        path: a folder written by `ClipCap.export(path, format="onnx")`.

    Example:
    ```python
    captioner = OnnxGreedyCaptioner("exports/clipcap-onnx")
    token_ids = captioner.generate(pixels)   # pixels: (N, R, R, 3) CLIP-preprocessed float32
    ```
    """

    def __init__(self, path):
        import onnxruntime

        path = Path(path)
        super().__init__(path / CONFIG_FILE)
        providers = ["CPUExecutionProvider"]
        self.encoder = onnxruntime.InferenceSession(str(path / ENCODER_FILE), providers=providers)
        self.step = onnxruntime.InferenceSession(str(path / STEP_FILE), providers=providers)

    def start(self, pixels):
        logits, *caches = self.encoder.run(["logits"] + self.cache_names, {"pixels": np.asarray(pixels, np.float32)})
        return logits, caches

    def advance(self, token_ids, index, caches):
        feeds = {"token_ids": np.asarray(token_ids, np.int32), "index": np.asarray(index, np.int32)}
        feeds.update(zip(self.cache_names, caches))
        logits, *caches = self.step.run(["logits"] + [f"next_{name}" for name in self.cache_names], feeds)
        return logits, caches
