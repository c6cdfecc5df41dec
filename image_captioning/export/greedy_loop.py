"""`GreedyLoop`: the official greedy decoding loop over an exported encoder and decoder step, in NumPy."""

import json
from pathlib import Path

import numpy as np


class GreedyLoop:
    """Greedy captions from any runtime that implements `start` and `advance`.

    Subclasses name their three files (`files`: loop settings, encoder, decoder step), open a graph
    file with `open_graph(path)`, and implement `start(pixels) -> (logits, caches)` and
    `advance(token_ids, index, caches) -> (logits, caches)` on `self.encoder` and `self.step`.

    Args:
        path: the export folder, holding the three `files`.

    Example:
    ```python
    token_ids = OnnxGreedyCaptioner("exports/clipcap-onnx").generate(pixels)
    ```
    """

    files: tuple[str, str, str]  # loop settings (prefix_length, max_length, stop_tokens, caches), encoder, step

    def __init__(self, path):
        path = Path(path)
        config_file, encoder_file, step_file = self.files
        self.config = json.loads((path / config_file).read_text())
        self.cache_names = [f"cache_{i}" for i in range(self.config["caches"])]
        self.encoder = self.open_graph(path / encoder_file)
        self.step = self.open_graph(path / step_file)

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
