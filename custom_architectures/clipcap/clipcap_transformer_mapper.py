"""ClipCap's Transformer mapper (the official `TransformerMapper` and its layers)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapAttention(keras.layers.Layer):
    """Self-attention with bias-free `to_queries` and fused `to_keys_values`, no mask.

    Args:
        dim: model width.
        num_heads: attention heads.
    """

    def __init__(self, dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.num_heads = num_heads
        self.to_queries = keras.layers.Dense(dim, use_bias=False, dtype=self.dtype_policy, name="to_queries")
        self.to_keys_values = keras.layers.Dense(2 * dim, use_bias=False, dtype=self.dtype_policy, name="to_keys_values")
        self.project = keras.layers.Dense(dim, dtype=self.dtype_policy, name="project")
        for dense in (self.to_queries, self.to_keys_values, self.project):
            dense.build((None, None, dim))

    def call(self, x):
        head_dim = self.dim // self.num_heads
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        queries = ops.reshape(self.to_queries(x), (batch, length, self.num_heads, head_dim))
        keys_values = ops.reshape(self.to_keys_values(x), (batch, length, 2, self.num_heads, head_dim))
        keys, values = keys_values[:, :, 0], keys_values[:, :, 1]
        scores = ops.einsum("bnhd,bmhd->bhnm", queries, keys) * (head_dim**-0.5)
        weights = ops.softmax(scores, axis=-1)
        out = ops.einsum("bhnm,bmhd->bnhd", weights, values)
        return self.project(ops.reshape(out, (batch, length, self.dim)))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads}


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapTransformerLayer(keras.layers.Layer):
    """Pre-LN block: x + attn(norm1(x)); x + mlp(norm2(x)), with a ReLU MLP.

    Args:
        dim: model width.
        num_heads: attention heads.
        mlp_ratio: hidden width of the MLP relative to `dim`.
    """

    def __init__(self, dim, num_heads, mlp_ratio=2.0, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        policy = self.dtype_policy
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="norm1")
        self.attn = ClipCapAttention(dim, num_heads, dtype=policy, name="attn")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="norm2")
        self.mlp_fc1 = keras.layers.Dense(int(dim * mlp_ratio), activation="relu", dtype=policy, name="mlp_fc1")
        self.mlp_fc2 = keras.layers.Dense(dim, dtype=policy, name="mlp_fc2")
        for layer in (self.norm1, self.norm2, self.mlp_fc1):
            layer.build((None, None, dim))
        self.mlp_fc2.build((None, None, int(dim * mlp_ratio)))

    def call(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp_fc2(self.mlp_fc1(self.norm2(x)))

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "num_heads": self.num_heads,
            "mlp_ratio": self.mlp_ratio,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapTransformerMapper(keras.layers.Layer):
    """Maps a CLIP embedding to prefix embeddings with a small transformer.

    The CLIP embedding becomes `clip_length` tokens (`linear`), a learned `prefix_const` of
    `prefix_length` tokens is appended, and the transformer output at those last positions is
    the prefix.

    Args:
        clip_dim: CLIP embedding width (640 for RN50x4).
        gpt_dim: GPT-2 embedding width (768).
        prefix_length: prefix embeddings produced (40 for the official checkpoint).
        clip_length: tokens made from the CLIP embedding (40 for the official checkpoint).
        num_layers: transformer layers (8).
        num_heads: attention heads (8).
        mlp_ratio: MLP hidden width relative to `gpt_dim` (2).

    Example:
    ```python
    mapper = ClipCapTransformerMapper(clip_dim=640, gpt_dim=768, prefix_length=40, clip_length=40)
    prefix = mapper(clip_embedding)  # (batch, 40, 768)
    ```
    """

    def __init__(
        self,
        clip_dim=640,
        gpt_dim=768,
        prefix_length=40,
        clip_length=40,
        num_layers=8,
        num_heads=8,
        mlp_ratio=2.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.clip_dim = clip_dim
        self.gpt_dim = gpt_dim
        self.prefix_length = prefix_length
        self.clip_length = clip_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.mlp_ratio = mlp_ratio
        self.linear = keras.layers.Dense(clip_length * gpt_dim, dtype=self.dtype_policy, name="linear")
        self.linear.build((None, clip_dim))
        self.prefix_const = self.add_weight(
            shape=(prefix_length, gpt_dim),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="prefix_const",
        )
        self.transformer_layers = [
            ClipCapTransformerLayer(gpt_dim, num_heads, mlp_ratio, dtype=self.dtype_policy, name=f"transformer_layer_{i}")
            for i in range(num_layers)
        ]
        self.built = True

    def call(self, clip_embedding):
        batch = ops.shape(clip_embedding)[0]
        x = ops.reshape(self.linear(clip_embedding), (batch, self.clip_length, self.gpt_dim))
        prefix = ops.broadcast_to(ops.cast(self.prefix_const, x.dtype), (batch, self.prefix_length, self.gpt_dim))
        x = ops.concatenate([x, prefix], axis=1)
        for layer in self.transformer_layers:
            x = layer(x)
        return x[:, self.clip_length :]

    def get_config(self):
        return {
            **super().get_config(),
            "clip_dim": self.clip_dim,
            "gpt_dim": self.gpt_dim,
            "prefix_length": self.prefix_length,
            "clip_length": self.clip_length,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "mlp_ratio": self.mlp_ratio,
        }
