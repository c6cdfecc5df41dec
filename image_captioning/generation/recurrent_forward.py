"""The forward the decoding loops call for a recurrent decoder (`LSTMDecoder`): its state is its memory.

Same contract as the GPT-2 forwards in `kv_cache`: `start(prefix, total_length) -> (logits, memory)`
and `step(memory, token_ids, index) -> (logits, memory)`. An LSTM carries everything it has read in
its (h, c) states, so the memory is those states, of a fixed size whatever `total_length` and
`index` are; a beam reorders them like a key/value cache (`search.gather_rows`).
"""

from keras import ops


class LSTMStateForward:
    def __init__(self, decoder):
        self.decoder = decoder

    def start(self, prefix, total_length):
        """prefix (R, P, D), read one position at a time from zero states -> (next-token logits (R, V), states)."""
        states = self.decoder.initial_state(ops.shape(prefix)[0])
        prefix = ops.cast(prefix, self.decoder.compute_dtype)
        for position in range(prefix.shape[1]):
            logits, states = self.decoder.step(prefix[:, position], states)
        return ops.cast(logits, "float32"), states

    def step(self, memory, token_ids, index):
        """Runs `token_ids` (R,) as the next input; returns (logits (R, V), states)."""
        embeds = ops.cast(self.decoder.embed_tokens(token_ids), self.decoder.compute_dtype)
        logits, states = self.decoder.step(embeds, memory)
        return ops.cast(logits, "float32"), states
