"""ClipCap's MLP mapper: CLIP embedding -> prefix embeddings (Linear - Tanh - Linear)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapMLPMapper(keras.layers.Layer):
    """Maps a CLIP embedding to `prefix_length` GPT-2 input embeddings.

    Mirrors the official `clip_project.model` (nn.Sequential of Linear, Tanh, Linear); the hidden
    width is half the output width, as in the official code.

    Args:
        clip_dim: CLIP embedding width (512 for ViT-B/32).
        prefix_length: number of prefix embeddings produced (10 for the official MLP models).
        gpt_dim: GPT-2 embedding width (768).

    Example:
    ```python
    mapper = ClipCapMLPMapper(clip_dim=512, prefix_length=10, gpt_dim=768)
    prefix = mapper(clip_embedding)  # (batch, 10, 768)
    ```
    """

    def __init__(self, clip_dim=512, prefix_length=10, gpt_dim=768, **kwargs):
        super().__init__(**kwargs)
        self.clip_dim = clip_dim
        self.prefix_length = prefix_length
        self.gpt_dim = gpt_dim
        output_dim = gpt_dim * prefix_length
        self.model = [
            keras.layers.Dense(output_dim // 2, dtype=self.dtype_policy, name="model_0"),
            keras.layers.Activation("tanh", dtype=self.dtype_policy, name="model_1"),
            keras.layers.Dense(output_dim, dtype=self.dtype_policy, name="model_2"),
        ]
        self.build((None, clip_dim))

    def build(self, input_shape):
        self.model[0].build(input_shape)
        self.model[2].build((None, self.model[0].units))
        self.built = True

    def call(self, clip_embedding):
        x = clip_embedding
        for layer in self.model:
            x = layer(x)
        return ops.reshape(x, (-1, self.prefix_length, self.gpt_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "clip_dim": self.clip_dim,
            "prefix_length": self.prefix_length,
            "gpt_dim": self.gpt_dim,
        }
