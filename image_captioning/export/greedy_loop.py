"""`GreedyLoop`: the official greedy decoding loop over an exported encoder and decoder step, in NumPy."""

import numpy as np


class GreedyLoop:
    """Greedy captions from any runtime that implements `start` and `advance`.

    Subclasses implement `start(pixels) -> (logits, caches)` and
    `advance(token_ids, index, caches) -> (logits, caches)`, and set `config` (the export's
    loop settings: prefix_length, max_length, stop_tokens).

    Example:
    ```python
    token_ids = OnnxGreedyCaptioner("exports/clipcap-onnx").generate(pixels)
    ```
    """

    config: dict

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
