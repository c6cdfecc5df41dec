"""The "forwards" the decoding loops call: GPT-2 over a prefix, then one token at a time.

- `LayerCacheForward` (default): the prefix fills GPT-2's key/value cache once; each step runs
  one token through the block's sublayers, with one cache tensor per layer.
- `CachedForward`: the same through `GPT2Decoder.call_with_cache` (one stacked cache).
- `UncachedForward`: keeps the embeddings and re-runs GPT-2 over the whole (causal) buffer at
  every step, as the official code does; for checking the cached path, not for speed.

Each has `start(prefix, total_length) -> (logits, memory)` and `step(token_embedding, memory, index)`.
The cached ones take `lm_head_parts` (see `lm_head_logits`).
"""

from keras import ops

from custom_architectures.gpt2 import gpt2_block_view


def lm_head_logits(decoder, hidden, parts=1):
    """float32 next-token logits (R, V) of final-norm hidden states (R, D).

    With `parts` > 1 the tied-embedding product runs as `parts` independent products over slices
    of the vocabulary, concatenated: TensorFlow's product with one row (a matrix-vector product)
    keeps about one core busy, while independent ops of a graph run side by side on its inter-op
    threads. On TensorFlow every logit is the same dot product either way, so the values do not change;
    XLA (JAX) may block a narrower product differently and round the last bit otherwise.
    """
    if parts == 1:
        return ops.cast(decoder.logits(hidden), "float32")
    embeddings = decoder.backbone.token_embedding.embeddings
    vocabulary = ops.shape(embeddings)[0]
    bounds = [vocabulary * i // parts for i in range(parts + 1)]
    slices = [
        ops.matmul(hidden, ops.transpose(ops.cast(embeddings[start:stop], hidden.dtype)))
        for start, stop in zip(bounds, bounds[1:])
    ]
    return ops.cast(ops.concatenate(slices, axis=-1), "float32")


class CachedForward:
    def __init__(self, decoder, lm_head_parts=1):
        self.decoder = decoder
        self.lm_head_parts = lm_head_parts

    def start(self, prefix, total_length):
        """prefix (R, P, D) -> (next-token logits (R, V), memory)."""
        cache = self.decoder.init_cache(ops.shape(prefix)[0], total_length)
        hidden, cache = self.decoder.call_with_cache(prefix, cache, 0)
        return self._logits(hidden[:, -1, :]), cache

    def step(self, memory, token_ids, index):
        """Runs `token_ids` (R,) at position `index`; returns (logits (R, V), memory)."""
        embeds = ops.cast(self.decoder.embed_tokens(token_ids[:, None]), self.decoder.compute_dtype)
        hidden, cache = self.decoder.call_with_cache(embeds, memory, index)
        return self._logits(hidden[:, 0, :]), cache

    def _logits(self, hidden):
        return lm_head_logits(self.decoder, hidden, self.lm_head_parts)


class LayerCacheForward:
    """Cached decoding with one key and one value cache per layer, laid out (R, heads, L, head_dim).

    Same weights and sublayers as `GPT2Decoder.call_with_cache` (keras-hub's GPT-2 blocks), but
    the single-token step skips what that generic path costs at every step: slicing each layer's
    cache out of one stacked tensor and stacking all of them back, transposing keys and values
    for the attention products, and building a causal mask per layer. The prefix still runs
    through `GPT2Decoder.call_with_cache`.
    """

    def __init__(self, decoder, lm_head_parts=1):
        self.decoder = decoder
        self.lm_head_parts = lm_head_parts
        backbone = decoder.backbone
        self.blocks = [gpt2_block_view(block) for block in backbone.transformer_layers]
        self.heads = decoder.num_heads
        self.head_dim = decoder.hidden_dim // decoder.num_heads

    def start(self, prefix, total_length):
        batch, length = ops.shape(prefix)[0], ops.shape(prefix)[1]
        cache = self.decoder.init_cache(batch, length)
        hidden, cache = self.decoder.call_with_cache(prefix, cache, 0)
        pad = [[0, 0], [0, 0], [0, total_length - length], [0, 0]]
        memory = []
        for i in range(len(self.blocks)):
            for kv in range(2):  # (R, P, heads, head_dim) -> (R, heads, L, head_dim)
                memory.append(ops.pad(ops.transpose(cache[:, i, kv], (0, 2, 1, 3)), pad))
        return self._logits(hidden[:, -1, :]), tuple(memory)

    def step(self, memory, token_ids, index):
        decoder = self.decoder
        backbone = decoder.backbone
        x = ops.cast(decoder.embed_tokens(token_ids[:, None]), decoder.compute_dtype)  # (R, 1, D)
        positions = ops.cast(backbone.position_embedding.position_embeddings, x.dtype)
        x = x + ops.take(positions, index, axis=0)[None, None, :]
        length = ops.shape(memory[0])[2]
        visible = (ops.arange(length, dtype="int32") <= index)[None, None, :]  # (1, 1, L)
        at_index = (ops.arange(length, dtype="int32") == index)[None, None, :, None]  # (1, 1, L, 1)
        new_memory = []
        for i, view in enumerate(self.blocks):
            h = view.ln_1(x)
            q = view.attn_query(h)[:, 0]  # (R, heads, head_dim)
            k = view.attn_key(h)[:, 0]
            v = view.attn_value(h)[:, 0]
            keys = ops.where(at_index, k[:, :, None, :], memory[2 * i])  # (R, heads, L, head_dim)
            values = ops.where(at_index, v[:, :, None, :], memory[2 * i + 1])
            new_memory += [keys, values]
            q = q * ops.cast(view.attention_scale, q.dtype)
            scores = ops.einsum("rhd,rhld->rhl", q, keys)
            scores = ops.where(visible, scores, ops.cast(-1e9, scores.dtype))
            weights = ops.softmax(scores, axis=-1)
            context = ops.einsum("rhl,rhld->rhd", weights, values)
            x = x + view.attn_c_proj(context[:, None])
            x = x + view.mlp_c_proj(view.mlp_c_fc(view.ln_2(x)))
        return self._logits(backbone.layer_norm(x)[:, 0]), tuple(new_memory)

    def _logits(self, hidden):
        return lm_head_logits(self.decoder, hidden, self.lm_head_parts)


class UncachedForward:
    def __init__(self, decoder):
        self.decoder = decoder

    def start(self, prefix, total_length):
        batch, length, dim = ops.shape(prefix)
        buffer = ops.zeros((batch, total_length, dim), dtype=self.decoder.compute_dtype)
        buffer = ops.slice_update(buffer, (0, 0, 0), ops.cast(prefix, buffer.dtype))
        return self._logits_at(buffer, length - 1), buffer

    def step(self, memory, token_ids, index):
        embeds = ops.cast(self.decoder.embed_tokens(token_ids[:, None]), memory.dtype)
        memory = ops.slice_update(memory, (0, index, 0), embeds)
        return self._logits_at(memory, index), memory

    def _logits_at(self, buffer, index):
        # Causal attention: positions after `index` (still zeros) do not change its logits.
        return ops.cast(ops.take(self.decoder(buffer), index, axis=1), "float32")
