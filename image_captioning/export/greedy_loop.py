"""`GreedyLoop`: the official greedy decoding loop over an exported encoder and decoder step, in NumPy."""

import json
from pathlib import Path

import numpy as np


class GreedyLoop:
    """Greedy captions from any runtime that implements `start` and `advance`.

    Subclasses implement `start(pixels) -> (logits, caches)` and
    `advance(token_ids, index, caches) -> (logits, caches)`, and call `__init__` with the export's
    loop settings file (prefix_length, max_length, stop_tokens, caches).

    Example:
    ```python
    token_ids = OnnxGreedyCaptioner("exports/clipcap-onnx").generate(pixels)
    ```
    """

    def __init__(self, config_path):
        self.config = json.loads(Path(config_path).read_text())
        self.cache_names = [f"cache_{i}" for i in range(self.config["caches"])]

    def generate(self, pixels):
        """Token ids per image (stop token included), as `CaptionGenerator`'s greedy search gives them."""
        stop = set(self.config["stop_tokens"])
        logits, caches = self.start(pixels)
        rows = len(logits)
        sequences, done, tokens = [[] for _ in range(rows)], np.zeros(rows, bool), None
        for column in range(self.config["max_length"]):
            if column:
                logits, caches = self.advance(tokens, self.config["prefix_length"] + column - 1, caches)
            tokens = np.argmax(logits, axis=-1).astype(np.int32)
            for row in np.flatnonzero(~done):
                sequences[row].append(int(tokens[row]))
                done[row] = tokens[row] in stop
            if done.all():
                break
        return sequences
