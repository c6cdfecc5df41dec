"""ClipCap's Transformer mapper (the official `TransformerMapper`), its layers, and its prefix mechanism.

The prefix mechanism (`add_prefix_transformer`, `run_prefix_transformer`) is shared with the temporal mapper.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapAttention(keras.layers.Layer):
    """Self-attention with bias-free `to_queries` and fused `to_keys_values`.

    The official mapper attends without a mask; `call`'s optional `key_mask` (batch, length) hides
    the positions where it is 0 from every query (the temporal mapper's padding frames).

    Args:
        hidden_dim: model width (the official `dim_self`).
        num_heads: attention heads.

    Example:
    ```python
    attn = ClipCapAttention(hidden_dim=768, num_heads=8)
    y = attn(ops.ones((1, 80, 768)))   # (1, 80, 768)
    y = attn(ops.ones((1, 80, 768)), key_mask=ops.ones((1, 80)))
    ```
    """

    def __init__(self, hidden_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        policy = self.dtype_policy
        self.to_queries = keras.layers.Dense(hidden_dim, use_bias=False, dtype=policy, name="to_queries")
        self.to_keys_values = keras.layers.Dense(2 * hidden_dim, use_bias=False, dtype=policy, name="to_keys_values")
        self.project = keras.layers.Dense(hidden_dim, dtype=policy, name="project")
        for dense in (self.to_queries, self.to_keys_values, self.project):
            dense.build((None, None, hidden_dim))

    def call(self, x, key_mask=None):
        head_dim = self.hidden_dim // self.num_heads
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        queries = ops.reshape(self.to_queries(x), (batch, length, self.num_heads, head_dim))
        keys_values = ops.reshape(self.to_keys_values(x), (batch, length, 2, self.num_heads, head_dim))
        keys, values = keys_values[:, :, 0], keys_values[:, :, 1]
        scores = ops.einsum("bnhd,bmhd->bhnm", queries, keys) * (head_dim**-0.5)
        if key_mask is not None:
            # A finite fill: a hidden key gets weight exactly 0 and no row is ever all -inf.
            visible = ops.cast(key_mask, "bool")[:, None, None, :]
            scores = ops.where(visible, scores, ops.cast(-1e9, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        out = ops.einsum("bhnm,bmhd->bnhd", weights, values)
        return self.project(ops.reshape(out, (batch, length, self.hidden_dim)))

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim, "num_heads": self.num_heads}


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapTransformerLayer(keras.layers.Layer):
    """Pre-LN block: x + attn(norm1(x)); x + mlp(norm2(x)), with a ReLU MLP.

    Args:
        hidden_dim: model width (the official `dim_self`).
        num_heads: attention heads.
        intermediate_dim: width of the MLP's hidden layer (the official `int(dim * mlp_ratio)`).

    Example:
    ```python
    layer = ClipCapTransformerLayer(hidden_dim=768, num_heads=8, intermediate_dim=1536)
    y = layer(ops.ones((1, 80, 768)))   # (1, 80, 768); key_mask= as in ClipCapAttention
    ```
    """

    def __init__(self, hidden_dim, num_heads, intermediate_dim, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        policy = self.dtype_policy
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="norm1")
        self.attn = ClipCapAttention(hidden_dim, num_heads, dtype=policy, name="attn")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="norm2")
        self.mlp_fc1 = keras.layers.Dense(intermediate_dim, activation="relu", dtype=policy, name="mlp_fc1")
        self.mlp_fc2 = keras.layers.Dense(hidden_dim, dtype=policy, name="mlp_fc2")
        for layer in (self.norm1, self.norm2, self.mlp_fc1):
            layer.build((None, None, hidden_dim))
        self.mlp_fc2.build((None, None, intermediate_dim))

    def call(self, x, key_mask=None):
        x = x + self.attn(self.norm1(x), key_mask=key_mask)
        return x + self.mlp_fc2(self.mlp_fc1(self.norm2(x)))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
        }


def add_prefix_transformer(mapper, prefix_length, hidden_dim, num_layers, num_heads, intermediate_dim):
    """Creates a Transformer mapper's learned prefix and layers; returns `(prefix_const, transformer_layers)`.

    `prefix_const` (prefix_length, hidden_dim) becomes a weight of `mapper` itself. The mappers keep
    both under those attribute names, created after their own `linear`: the official-weight converter
    and saved models read them by those names and in that order.

    Example:
    ```python
    self.prefix_const, self.transformer_layers = add_prefix_transformer(self, 10, 768, 2, 8, 1536)
    ```
    """
    prefix_const = mapper.add_weight(
        shape=(prefix_length, hidden_dim),
        initializer=keras.initializers.RandomNormal(stddev=1.0),
        name="prefix_const",
    )
    transformer_layers = [
        ClipCapTransformerLayer(
            hidden_dim, num_heads, intermediate_dim, dtype=mapper.dtype_policy, name=f"transformer_layer_{i}"
        )
        for i in range(num_layers)
    ]
    return prefix_const, transformer_layers


def run_prefix_transformer(tokens, prefix_const, transformer_layers, token_mask=None):
    """The prefix a Transformer mapper reads off its tokens, the mechanism of the official mapper.

    `prefix_const` is appended to every row of `tokens` (batch, length, hidden_dim), the
    `transformer_layers` run over the whole, and their output at the appended positions is the
    prefix (batch, prefix_length, hidden_dim). `token_mask` (batch, length), 0 at padding tokens,
    hides those from every position; the appended positions are always visible.

    Example:
    ```python
    prefix = run_prefix_transformer(tokens, self.prefix_const, self.transformer_layers, frame_mask)
    ```
    """
    batch = ops.shape(tokens)[0]
    prefix_length, hidden_dim = prefix_const.shape
    prefix = ops.broadcast_to(ops.cast(prefix_const, tokens.dtype), (batch, prefix_length, hidden_dim))
    x = ops.concatenate([tokens, prefix], axis=1)
    key_mask = None
    if token_mask is not None:
        prefix_mask = ops.ones((batch, prefix_length), dtype="bool")
        key_mask = ops.concatenate([ops.cast(token_mask, "bool"), prefix_mask], axis=1)
    for layer in transformer_layers:
        x = layer(x, key_mask=key_mask)
    return x[:, -prefix_length:]


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapTransformerMapper(keras.layers.Layer):
    """Maps a CLIP embedding to prefix embeddings with a small transformer.

    The CLIP embedding becomes `clip_length` tokens (`linear`), a learned `prefix_const` of
    `prefix_length` tokens is appended, and the transformer output at those last positions is
    the prefix.

    Args:
        input_dim: width of the CLIP embedding it reads (640 for RN50x4).
        hidden_dim: width of its tokens and of each prefix embedding, GPT-2's `hidden_dim` (768).
        prefix_length: prefix embeddings produced (40 for the official checkpoint).
        clip_length: tokens made from the CLIP embedding (40 for the official checkpoint).
        num_layers: transformer layers (8).
        num_heads: attention heads (8).
        intermediate_dim: width of each layer's MLP hidden layer; `2 * hidden_dim` when None
            (the official `mlp_ratio` of 2).

    Example:
    ```python
    mapper = ClipCapTransformerMapper(input_dim=640, hidden_dim=768, prefix_length=40, clip_length=40)
    prefix = mapper(clip_embedding)  # (batch, 40, 768)
    ```
    """

    def __init__(
        self,
        input_dim=640,
        hidden_dim=768,
        prefix_length=40,
        clip_length=40,
        num_layers=8,
        num_heads=8,
        intermediate_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.hidden_dim = hidden_dim
        self.prefix_length = prefix_length
        self.clip_length = clip_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim or 2 * hidden_dim
        self.linear = keras.layers.Dense(clip_length * hidden_dim, dtype=self.dtype_policy, name="linear")
        self.linear.build((None, input_dim))
        self.prefix_const, self.transformer_layers = add_prefix_transformer(
            self, prefix_length, hidden_dim, num_layers, num_heads, self.intermediate_dim
        )
        self.built = True

    def call(self, clip_embedding):
        batch = ops.shape(clip_embedding)[0]
        tokens = ops.reshape(self.linear(clip_embedding), (batch, self.clip_length, self.hidden_dim))
        return run_prefix_transformer(tokens, self.prefix_const, self.transformer_layers)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "hidden_dim": self.hidden_dim,
            "prefix_length": self.prefix_length,
            "clip_length": self.clip_length,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
        }
