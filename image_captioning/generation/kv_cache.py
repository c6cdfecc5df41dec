"""The "forwards" the decoding loops call: GPT-2 over a prefix, then one token at a time.

- `LayerCacheForward` (default): the prefix fills GPT-2's key/value cache once; each step runs
  one token through the block's sublayers, with one cache tensor per layer.
- `CachedForward`: the same through `GPT2Decoder.call_with_cache` (one stacked cache).
- `UncachedForward`: keeps the embeddings and re-runs GPT-2 over the whole (causal) buffer at
  every step, as the official code does; for checking the cached path, not for speed.

Each has `start(prefix, total_length) -> (logits, memory)` and `step(token_embedding, memory, index)`.
The cached ones take `lm_head_parts` (see `lm_head_logits`).
"""

import keras
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

    Args:
        decoder: a `GPT2Decoder`.
        lm_head_parts: see `lm_head_logits`.
        fused: `fused_step_matrices(decoder)`, or None (the keras-hub layers). With them the step
            runs each block's query, key and value projections as one (hidden, 3 hidden) product,
            HF's `c_attn`, and the output projection as one matrix product on (R, hidden) rows, from
            copies of those kernels (`variables`; compiled functions take them as inputs). On the
            2-core machines of issue 19 the three (R, 1, hidden) einsums of a batch-1 step read
            their weights at about 9 GB/s, one plain product at about 20 GB/s: batch-1 decoding is
            memory-bound, so that is where a step's time went. Exports keep the keras-hub layers:
            a SavedModel must own every variable its functions read.
        in_place_update: write the step's key and value with a dynamic-update-slice, which XLA
            does in place; else with a select over the whole cache (a plain TensorFlow graph
            would compile the slice op on demand at every call).

    Example:
    ```python
    forward = LayerCacheForward(decoder, fused=fused_step_matrices(decoder), in_place_update=True)
    logits, memory = forward.start(prefix, prefix_length + max_length)
    logits, memory = forward.step(memory, token_ids, prefix_length)
    ```
    """

    def __init__(self, decoder, lm_head_parts=1, fused=None, in_place_update=False):
        self.decoder = decoder
        self.lm_head_parts = lm_head_parts
        backbone = decoder.backbone
        self.blocks = [gpt2_block_view(block) for block in backbone.transformer_layers]
        self.heads = decoder.num_heads
        self.head_dim = decoder.hidden_dim // decoder.num_heads
        self.fused = fused
        self.in_place_update = in_place_update

    @property
    def variables(self):
        """The fused copies (empty without `fused`): a compiled function's extra inputs."""
        return [v for block in self.fused or () for v in block.values()]

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
        x = ops.cast(decoder.embed_tokens(token_ids), decoder.compute_dtype)  # (R, D)
        positions = ops.cast(backbone.position_embedding.position_embeddings, x.dtype)
        x = x + ops.take(positions, index, axis=0)[None, :]
        length = ops.shape(memory[0])[2]
        visible = (ops.arange(length, dtype="int32") <= index)[None, None, :]  # (1, 1, L)
        at_index = (ops.arange(length, dtype="int32") == index)[None, None, :, None]  # (1, 1, L, 1)
        new_memory = []
        for i, view in enumerate(self.blocks):
            q, k, v = self._query_key_value(i, view.ln_1(x))  # each (R, heads, head_dim)
            keys = self._write(memory[2 * i], k, index, at_index)  # (R, heads, L, head_dim)
            values = self._write(memory[2 * i + 1], v, index, at_index)
            new_memory += [keys, values]
            q = q * ops.cast(view.attention_scale, q.dtype)
            scores = ops.einsum("rhd,rhld->rhl", q, keys)
            scores = ops.where(visible, scores, ops.cast(-1e9, scores.dtype))
            weights = ops.softmax(scores, axis=-1)
            context = ops.einsum("rhl,rhld->rhd", weights, values)
            x = x + self._output_projection(i, context)
            x = x + view.mlp_c_proj(view.mlp_c_fc(view.ln_2(x)))
        return self._logits(backbone.layer_norm(x)), tuple(new_memory)

    def _write(self, cache, update, index, at_index):
        update = ops.cast(update[:, :, None, :], cache.dtype)
        if self.in_place_update:
            return ops.slice_update(cache, (0, 0, index, 0), update)
        return ops.where(at_index, update, cache)

    def _query_key_value(self, i, h):
        if self.fused is None:
            view = self.blocks[i]
            return tuple(dense(h[:, None])[:, 0] for dense in (view.attn_query, view.attn_key, view.attn_value))
        qkv = ops.matmul(h, self.fused[i]["c_attn_kernel"]) + self.fused[i]["c_attn_bias"]
        qkv = ops.reshape(qkv, (-1, 3, self.heads, self.head_dim))
        return qkv[:, 0], qkv[:, 1], qkv[:, 2]

    def _output_projection(self, i, context):
        view = self.blocks[i]
        if self.fused is None:
            return view.attn_c_proj(context[:, None])[:, 0]
        rows = ops.reshape(context, (-1, self.heads * self.head_dim))
        return ops.matmul(rows, self.fused[i]["c_proj_kernel"]) + view.attn_c_proj.bias

    def _logits(self, hidden):
        return lm_head_logits(self.decoder, hidden, self.lm_head_parts)


def fused_step_matrices(decoder):
    """`fused_block_matrices` of every block of a `GPT2Decoder`, for `LayerCacheForward(fused=...)`."""
    return [fused_block_matrices(gpt2_block_view(block)) for block in decoder.backbone.transformer_layers]


def fused_block_matrices(view):
    """Copies of one block's attention kernels as plain matrices: q, k, v side by side (HF's c_attn,
    (hidden, 3 hidden)) and the output projection as (hidden, hidden)."""
    kernels = [dense.kernel for dense in (view.attn_query, view.attn_key, view.attn_value)]
    hidden = kernels[0].shape[0]
    c_attn = ops.concatenate([ops.reshape(kernel, (hidden, -1)) for kernel in kernels], axis=1)
    biases = [ops.reshape(dense.bias, (-1,)) for dense in (view.attn_query, view.attn_key, view.attn_value)]
    dtype = kernels[0].dtype
    return {
        "c_attn_kernel": keras.Variable(c_attn, dtype=dtype, trainable=False, name="c_attn_kernel"),
        "c_attn_bias": keras.Variable(ops.concatenate(biases, axis=0), dtype=dtype, trainable=False, name="c_attn_bias"),
        "c_proj_kernel": keras.Variable(ops.reshape(view.attn_c_proj.kernel, (-1, hidden)), dtype=dtype,
                                        trainable=False, name="c_proj_kernel"),
    }


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
