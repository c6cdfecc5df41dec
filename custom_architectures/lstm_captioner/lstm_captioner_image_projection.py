"""The LSTM baseline's image input: the pooled CNN feature, projected and batch-normalised."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ImageProjection(keras.layers.Layer):
    """CNN feature (B, input_dim) -> the LSTM's first input (B, 1, embedding_dim), as in Show and Tell.

    A linear map followed by batch normalisation over the batch, as the PyTorch Show-and-Tell
    baselines do (`nn.Linear` + `nn.BatchNorm1d`). Pooled ResNet-50 features share a large part
    across images (every one is positive after the last ReLU); normalising each output across the
    batch removes it, so the small differences between images reach the LSTM at a usable scale.
    A 2-layer tanh mapper there saturated and gave every image the same input.

    Args:
        input_dim: width of the CNN feature (2048 for ResNet-50).
        embedding_dim: width of the LSTM's inputs.
        momentum: of the batch-norm moving statistics (0.9: short runs end with settled statistics).

    Example:
    ```python
    projection = ImageProjection(input_dim=2048, embedding_dim=128)
    prefix = projection(features)   # (B, 2048) -> (B, 1, 128)
    ```
    """

    prefix_length = 1

    def __init__(self, input_dim=2048, embedding_dim=512, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        # === Layers ===
        self.linear = keras.layers.Dense(embedding_dim, dtype=self.dtype_policy, name="linear")
        self.bn = keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5, dtype=self.dtype_policy, name="bn")
        self.linear.build((None, input_dim))
        self.bn.build((None, embedding_dim))
        # === Config ===
        self.input_dim = input_dim
        self.embedding_dim = embedding_dim
        self.momentum = momentum
        self.built = True

    def call(self, features, training=None):
        return ops.expand_dims(self.bn(self.linear(features), training=training), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, self.embedding_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "embedding_dim": self.embedding_dim,
            "momentum": self.momentum,
        }
