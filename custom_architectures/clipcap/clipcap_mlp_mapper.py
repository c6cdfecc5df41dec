"""ClipCap's MLP mapper: CLIP embedding -> prefix embeddings (Linear - Tanh - Linear)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapMLPMapper(keras.layers.Layer):
    """Maps a CLIP embedding to `prefix_length` GPT-2 input embeddings.

    Mirrors the official `clip_project.model` (nn.Sequential of Linear, Tanh, Linear); the MLP's
    middle layer is half as wide as its output, as in the official code.

    Args:
        input_dim: width of the CLIP embedding it reads (512 for ViT-B/32).
        prefix_length: number of prefix embeddings produced (10 for the official MLP models).
        hidden_dim: width of each prefix embedding, GPT-2's `hidden_dim` (768).

    Example:
    ```python
    mapper = ClipCapMLPMapper(input_dim=512, prefix_length=10, hidden_dim=768)
    prefix = mapper(clip_embedding)  # (batch, 10, 768)
    ```
    """

    def __init__(self, input_dim=512, prefix_length=10, hidden_dim=768, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.prefix_length = prefix_length
        self.hidden_dim = hidden_dim
        output_dim = hidden_dim * prefix_length
        self.model = [
            keras.layers.Dense(output_dim // 2, dtype=self.dtype_policy, name="model_0"),
            keras.layers.Activation("tanh", dtype=self.dtype_policy, name="model_1"),
            keras.layers.Dense(output_dim, dtype=self.dtype_policy, name="model_2"),
        ]
        self.build((None, input_dim))

    def build(self, input_shape):
        self.model[0].build(input_shape)
        self.model[2].build((None, self.model[0].units))
        self.built = True

    def call(self, clip_embedding):
        x = clip_embedding
        for layer in self.model:
            x = layer(x)
        return ops.reshape(x, (-1, self.prefix_length, self.hidden_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "prefix_length": self.prefix_length,
            "hidden_dim": self.hidden_dim,
        }
