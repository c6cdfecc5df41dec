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
        hidden_dim: model width (OpenAI's `embed_dim`).
        num_heads: number of attention heads; `hidden_dim` must be divisible by it.
        use_causal_mask: mask attention to later positions (CLIP's text transformer).

    Example:
    ```python
    attn = CLIPMultiHeadAttention(hidden_dim=64, num_heads=2)
    y = attn(ops.ones((1, 5, 64)))   # (1, 5, 64)
    ```
    """

    def __init__(self, hidden_dim, num_heads, use_causal_mask=False, **kwargs):
        super().__init__(**kwargs)
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim={hidden_dim} is not divisible by num_heads={num_heads}")
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.use_causal_mask = use_causal_mask
        self.in_proj = keras.layers.Dense(3 * hidden_dim, name="in_proj", dtype=self.dtype_policy)
        self.out_proj = keras.layers.Dense(hidden_dim, name="out_proj", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.in_proj.build(input_shape)
        self.out_proj.build(input_shape)

    def call(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        head_dim = self.hidden_dim // self.num_heads
        qkv = ops.reshape(self.in_proj(x), (batch, length, 3, self.num_heads, head_dim))
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        # PyTorch scales the projected query before the product.
        q = q * ops.cast(head_dim**-0.5, q.dtype)
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k)
        if self.use_causal_mask:
            positions = ops.arange(length)
            allowed = positions[None, :] <= positions[:, None]
            scores = ops.where(allowed, scores, ops.cast(float("-inf"), scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        out = ops.einsum("bhqk,bkhd->bqhd", weights, v)
        return self.out_proj(ops.reshape(out, (batch, length, self.hidden_dim)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "use_causal_mask": self.use_causal_mask,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class MLP(keras.layers.Layer):
    """Feed-forward part of a block: `c_fc` (4 * hidden_dim) -> QuickGELU -> `c_proj`.

    Args:
        hidden_dim: model width.

    Example:
    ```python
    mlp = MLP(hidden_dim=64)
    y = mlp(ops.ones((1, 5, 64)))   # (1, 5, 64)
    ```
    """

    def __init__(self, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.c_fc = keras.layers.Dense(4 * hidden_dim, name="c_fc", dtype=self.dtype_policy)
        self.gelu = QuickGELU(name="gelu", dtype=self.dtype_policy)
        self.c_proj = keras.layers.Dense(hidden_dim, name="c_proj", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.c_fc.build(input_shape)
        self.c_proj.build(tuple(input_shape[:-1]) + (4 * self.hidden_dim,))

    def call(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}


@keras.saving.register_keras_serializable(package="custom_architectures")
class ResidualAttentionBlock(keras.layers.Layer):
    """Pre-norm transformer block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.

    Args:
        hidden_dim: model width (OpenAI's `d_model`).
        num_heads: number of attention heads.
        use_causal_mask: causal self-attention (text transformer).

    Example:
    ```python
    block = ResidualAttentionBlock(hidden_dim=64, num_heads=2)
    y = block(ops.ones((1, 5, 64)))
    ```
    """

    def __init__(self, hidden_dim, num_heads, use_causal_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.use_causal_mask = use_causal_mask
        policy = self.dtype_policy
        self.attn = CLIPMultiHeadAttention(hidden_dim, num_heads, use_causal_mask, name="attn", dtype=policy)
        self.ln_1 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_1", dtype=policy)
        self.mlp = MLP(hidden_dim, name="mlp", dtype=policy)
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
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "use_causal_mask": self.use_causal_mask,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class Transformer(keras.layers.Layer):
    """Stack of `ResidualAttentionBlock`s, `resblocks[i]` mirroring `transformer.resblocks.i`.

    Args:
        hidden_dim: model width.
        num_layers: number of blocks.
        num_heads: attention heads per block.
        use_causal_mask: causal self-attention in every block.

    Example:
    ```python
    transformer = Transformer(hidden_dim=64, num_layers=2, num_heads=2)
    y = transformer(ops.ones((1, 5, 64)))
    ```
    """

    def __init__(self, hidden_dim, num_layers, num_heads, use_causal_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.use_causal_mask = use_causal_mask
        self.resblocks = [
            ResidualAttentionBlock(hidden_dim, num_heads, use_causal_mask, name=f"resblocks_{i}", dtype=self.dtype_policy)
            for i in range(num_layers)
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
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "use_causal_mask": self.use_causal_mask,
        }
