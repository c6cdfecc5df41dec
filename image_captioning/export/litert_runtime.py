"""Greedy captioning with the two LiteRT models of `litert_graphs`, on `ai-edge-litert` and NumPy only."""

from pathlib import Path

import numpy as np

from image_captioning.export.greedy_loop import GreedyLoop
from image_captioning.export.litert_graphs import CONFIG_FILE, ENCODER_FILE, STEP_FILE


class LiteRtGreedyCaptioner(GreedyLoop):
    """Runs `encoder.tflite` once and `decoder_step.tflite` per token (see `GreedyLoop`).

    Args:
        path: a folder written by `ClipCap.export(path, format="litert")`.

    Example:
    ```python
    captioner = LiteRtGreedyCaptioner("exports/clipcap-litert")
    token_ids = captioner.generate(pixels)   # pixels: (N, R, R, 3) CLIP-preprocessed float32
    ```
    """

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter

        path = Path(path)
        super().__init__(path / CONFIG_FILE)
        self.encoder = Interpreter(model_path=str(path / ENCODER_FILE)).get_signature_runner()
        self.step = Interpreter(model_path=str(path / STEP_FILE)).get_signature_runner()

    def start(self, pixels):
        outputs = self.encoder(pixels=np.asarray(pixels, np.float32))
        return outputs["logits"], [outputs[name] for name in self.cache_names]

    def advance(self, token_ids, index, caches):
        outputs = self.step(token_ids=np.asarray(token_ids, np.int32), index=np.asarray(index, np.int32),
                            **dict(zip(self.cache_names, caches)))
        return outputs["logits"], [outputs[f"next_{name}"] for name in self.cache_names]
