"""The mapping network of jmisilo/clip-gpt-captioning (`Mapping` in its `src/model/model.py`).

A PyTorch `nn.TransformerEncoder` (post-norm layers, ReLU feed-forward) over a one-token sequence,
the CLIP embedding itself, then one `nn.Linear` to `mapped_length` GPT-2 embeddings. The GPT-2
prefix its generation builds is the <|endoftext|> token embedding followed by those; this mapper
returns that whole prefix, so that any ClipCap generator decodes it unchanged. See
`image_captioning.converters.clip_gpt_captioning` for the upstream facts, with their lines.
"""

import warnings

import keras
from keras import ops

from custom_architectures.clip import CLIPMultiHeadAttention

LAYER_NORM_EPSILON = 1e-5  # nn.TransformerEncoderLayer's default


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipGPTEncoderLayer(keras.layers.Layer):
    """`nn.TransformerEncoderLayer` as clip-gpt-captioning builds it: post-norm, ReLU, batch first.

    `x = norm1(x + self_attn(x))`, then `x = norm2(x + linear2(relu(linear1(x))))`; dropout is
    inactive at inference and left out.

    Args:
        hidden_dim: model width (`d_model`, the CLIP width: 768 for S, 1024 for L).
        num_heads: attention heads (`nhead`, 16 in both upstream configs).
        intermediate_dim: feed-forward width (`dim_feedforward`, 4 * hidden_dim upstream).

    Example:
    ```python
    layer = ClipGPTEncoderLayer(hidden_dim=768, num_heads=16, intermediate_dim=3072)
    y = layer(ops.ones((2, 1, 768)))   # (2, 1, 768)
    ```
    """

    def __init__(self, hidden_dim, num_heads, intermediate_dim, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        policy = self.dtype_policy
        self.self_attn = CLIPMultiHeadAttention(hidden_dim, num_heads, dtype=policy, name="self_attn")
        self.linear1 = keras.layers.Dense(intermediate_dim, activation="relu", dtype=policy, name="linear1")
        self.linear2 = keras.layers.Dense(hidden_dim, dtype=policy, name="linear2")
        self.norm1 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, dtype=policy, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, dtype=policy, name="norm2")
        for layer in (self.self_attn, self.linear1, self.norm1, self.norm2):
            layer.build((None, None, hidden_dim))
        self.linear2.build((None, None, intermediate_dim))
        self.built = True

    def call(self, x):
        with warnings.catch_warnings():
            # The mapper's sequence is one token, so Keras warns that a softmax over one key is always 1:
            # exactly what upstream computes there.
            warnings.filterwarnings("ignore", message="You are using a softmax over axis")
            attended = self.self_attn(x)
        x = self.norm1(x + attended)
        return self.norm2(x + self.linear2(self.linear1(x)))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
        }


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipGPTMapper(keras.layers.Layer):
    """Maps a pooled CLIP embedding to clip-gpt-captioning's GPT-2 prefix.

    The embedding runs as a one-token sequence through `num_layers` `ClipGPTEncoderLayer`s
    (`transformer_encoder_layers`), `mapper` turns it into `mapped_length` embeddings, and
    `start_embedding` (GPT-2's <|endoftext|> token embedding, which upstream puts first) is
    prepended: the prefix has `prefix_length = mapped_length + 1` positions.

    Args:
        input_dim: width of the CLIP embedding; upstream it must equal `hidden_dim` (the pooled
            CLIP output feeds the encoder directly).
        hidden_dim: width of the encoder and of GPT-2 (768 for S, 1024 for L).
        mapped_length: embeddings made from the CLIP embedding (upstream `ep_len`, 4).
        num_layers: encoder layers (6 for S, 5 for L).
        num_heads: attention heads (16).
        intermediate_dim: feed-forward width; `4 * hidden_dim` (upstream `forward_expansion`) when None.

    Example:
    ```python
    mapper = ClipGPTMapper(input_dim=768, hidden_dim=768, mapped_length=4, num_layers=6, num_heads=16)
    prefix = mapper(clip_pooled)   # (batch, 5, 768): <|endoftext|> embedding, then 4 mapped ones
    ```
    """

    def __init__(self, input_dim=768, hidden_dim=768, mapped_length=4, num_layers=6, num_heads=16,
                 intermediate_dim=None, **kwargs):
        super().__init__(**kwargs)
        if input_dim != hidden_dim:
            raise ValueError(
                f"ClipGPTMapper reads the CLIP embedding at the encoder's width: input_dim={input_dim} must equal "
                f"hidden_dim={hidden_dim} (use the CLIP whose width is GPT-2's: ViT-B/32 with gpt2, ViT-L/14 with gpt2-medium)."
            )
        self.input_dim = input_dim
        self.hidden_dim = hidden_dim
        self.mapped_length = mapped_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim or 4 * hidden_dim
        policy = self.dtype_policy
        self.transformer_encoder_layers = [
            ClipGPTEncoderLayer(hidden_dim, num_heads, self.intermediate_dim, dtype=policy,
                                name=f"transformer_encoder_layer_{i}")
            for i in range(num_layers)
        ]
        self.mapper = keras.layers.Dense(mapped_length * hidden_dim, dtype=policy, name="mapper")
        self.mapper.build((None, hidden_dim))
        self.start_embedding = self.add_weight(shape=(hidden_dim,), initializer="zeros", name="start_embedding")
        self.built = True

    @property
    def prefix_length(self):
        return self.mapped_length + 1

    def call(self, clip_embedding):
        batch = ops.shape(clip_embedding)[0]
        x = clip_embedding[:, None, :]
        for layer in self.transformer_encoder_layers:
            x = layer(x)
        mapped = ops.reshape(self.mapper(x[:, 0]), (batch, self.mapped_length, self.hidden_dim))
        start = ops.broadcast_to(ops.cast(self.start_embedding, mapped.dtype), (batch, 1, self.hidden_dim))
        return ops.concatenate([start, mapped], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "hidden_dim": self.hidden_dim,
            "mapped_length": self.mapped_length,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
        }
