"""Transformer pieces of OpenAI CLIP (`clip/model.py`), named after the PyTorch modules.

Sequences are batch-first (B, L, D); OpenAI's code permutes to (L, B, D) only because
`nn.MultiheadAttention` expects it, which does not change the arithmetic.
"""

import keras
from keras import ops

LAYER_NORM_EPSILON = 1e-5  # PyTorch nn.LayerNorm default


@keras.saving.register_keras_serializable(package="custom_architectures")
class QuickGELU(keras.layers.Layer):
    """CLIP's GELU approximation, `x * sigmoid(1.702 * x)`.

    Example:
    ```python
    QuickGELU()(ops.ones((2, 3)))
    ```
    """

    def call(self, x):
        return x * ops.sigmoid(1.702 * x)


@keras.saving.register_keras_serializable(package="custom_architectures")
class CLIPMultiHeadAttention(keras.layers.Layer):
    """Self-attention mirroring `nn.MultiheadAttention` with a fused `in_proj` (q, k, v).

    Args:
        width: model width (embed_dim).
        heads: number of attention heads; `width` must be divisible by it.
        causal: mask attention to later positions (CLIP's text transformer).

    Example:
    ```python
    attn = CLIPMultiHeadAttention(width=64, heads=2)
    y = attn(ops.ones((1, 5, 64)))   # (1, 5, 64)
    ```
    """

    def __init__(self, width, heads, causal=False, **kwargs):
        super().__init__(**kwargs)
        if width % heads:
            raise ValueError(f"width={width} is not divisible by heads={heads}")
        self.width = width
        self.heads = heads
        self.causal = causal
        self.in_proj = keras.layers.Dense(3 * width, name="in_proj", dtype=self.dtype_policy)
        self.out_proj = keras.layers.Dense(width, name="out_proj", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.in_proj.build(input_shape)
        self.out_proj.build(input_shape)

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        head_dim = self.width // self.heads
        qkv = ops.reshape(self.in_proj(x), (batch, length, 3, self.heads, head_dim))
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        # PyTorch scales the projected query before the product.
        q = q * ops.cast(head_dim**-0.5, q.dtype)
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k)
        if self.causal:
            positions = ops.arange(length)
            allowed = positions[None, :] <= positions[:, None]
            scores = ops.where(allowed, scores, ops.cast(float("-inf"), scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        out = ops.einsum("bhqk,bkhd->bqhd", weights, v)
        return self.out_proj(ops.reshape(out, (batch, length, self.width)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads, "causal": self.causal}


@keras.saving.register_keras_serializable(package="custom_architectures")
class MLP(keras.layers.Layer):
    """Feed-forward part of a block: `c_fc` (4 * width) -> QuickGELU -> `c_proj`.

    Args:
        width: model width.

    Example:
    ```python
    mlp = MLP(width=64)
    y = mlp(ops.ones((1, 5, 64)))   # (1, 5, 64)
    ```
    """

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.c_fc = keras.layers.Dense(4 * width, name="c_fc", dtype=self.dtype_policy)
        self.gelu = QuickGELU(name="gelu", dtype=self.dtype_policy)
        self.c_proj = keras.layers.Dense(width, name="c_proj", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.c_fc.build(input_shape)
        self.c_proj.build(tuple(input_shape[:-1]) + (4 * self.width,))

    def call(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@keras.saving.register_keras_serializable(package="custom_architectures")
class ResidualAttentionBlock(keras.layers.Layer):
    """Pre-norm transformer block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.

    Args:
        width: model width (d_model).
        heads: number of attention heads.
        causal: causal self-attention (text transformer).

    Example:
    ```python
    block = ResidualAttentionBlock(width=64, heads=2)
    y = block(ops.ones((1, 5, 64)))
    ```
    """

    def __init__(self, width, heads, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.heads = heads
        self.causal = causal
        policy = self.dtype_policy
        self.attn = CLIPMultiHeadAttention(width, heads, causal, name="attn", dtype=policy)
        self.ln_1 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_1", dtype=policy)
        self.mlp = MLP(width, name="mlp", dtype=policy)
        self.ln_2 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_2", dtype=policy)

    def build(self, input_shape):
        self.ln_1.build(input_shape)
        self.attn.build(input_shape)
        self.ln_2.build(input_shape)
        self.mlp.build(input_shape)

    def call(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads, "causal": self.causal}


@keras.saving.register_keras_serializable(package="custom_architectures")
class Transformer(keras.layers.Layer):
    """Stack of `ResidualAttentionBlock`s, `resblocks[i]` mirroring `transformer.resblocks.i`.

    Args:
        width: model width.
        layers: number of blocks.
        heads: attention heads per block.
        causal: causal self-attention in every block.

    Example:
    ```python
    transformer = Transformer(width=64, layers=2, heads=2)
    y = transformer(ops.ones((1, 5, 64)))
    ```
    """

    def __init__(self, width, layers, heads, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.layers = layers
        self.heads = heads
        self.causal = causal
        self.resblocks = [
            ResidualAttentionBlock(width, heads, causal, name=f"resblocks_{i}", dtype=self.dtype_policy)
            for i in range(layers)
        ]

    def build(self, input_shape):
        for block in self.resblocks:
            block.build(input_shape)

    def call(self, x):
        for block in self.resblocks:
            x = block(x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "layers": self.layers,
            "heads": self.heads,
            "causal": self.causal,
        }
