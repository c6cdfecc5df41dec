"""CLIP text encoder, mirroring OpenAI's `CLIP.encode_text` (`clip/model.py`)."""

import keras
from keras import ops

from custom_architectures.clip.clip_layers import LAYER_NORM_EPSILON, Transformer


@keras.saving.register_keras_serializable(package="custom_architectures")
class CLIPTextEncoder(keras.Model):
    """Causal transformer over CLIP BPE token ids, read out at the end-of-text token.

    The features are taken at the position of the largest token id of each sequence (OpenAI's
    end-of-text token is the largest id), then projected.

    Args:
        max_sequence_length: number of learned positions (OpenAI's `context_length`, 77).
        vocabulary_size: number of tokens (49408).
        hidden_dim: transformer width (512 for ViT-B/32).
        num_layers: number of transformer blocks (12).
        num_heads: attention heads (hidden_dim // 64).
        output_dim: size of the projected embedding (512 for ViT-B/32).

    Example:
    ```python
    encoder = CLIPTextEncoder(max_sequence_length=77, vocabulary_size=49408, hidden_dim=512,
                              num_layers=12, num_heads=8, output_dim=512)
    embeddings = encoder(token_ids)   # token_ids: (B, 77) int -> (B, 512), not normalized
    ```
    """

    def __init__(self, max_sequence_length, vocabulary_size, hidden_dim, num_layers, num_heads, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.max_sequence_length = max_sequence_length
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.output_dim = output_dim
        policy = self.dtype_policy
        self.token_embedding = keras.layers.Embedding(vocabulary_size, hidden_dim, name="token_embedding", dtype=policy)
        self.transformer = Transformer(
            hidden_dim, num_layers, num_heads, use_causal_mask=True, name="transformer", dtype=policy
        )
        self.ln_final = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_final", dtype=policy)
        self.build((None, max_sequence_length))

    def build(self, input_shape):
        sequence_shape = (None, self.max_sequence_length, self.hidden_dim)
        self.token_embedding.build(input_shape)
        self.positional_embedding = self.add_weight(
            shape=(self.max_sequence_length, self.hidden_dim), initializer="zeros", name="positional_embedding"
        )
        self.transformer.build(sequence_shape)
        self.ln_final.build(sequence_shape)
        self.text_projection = self.add_weight(
            shape=(self.hidden_dim, self.output_dim), initializer="zeros", name="text_projection"
        )
        self.built = True

    def call(self, token_ids):
        length = ops.shape(token_ids)[1]
        x = self.token_embedding(token_ids)
        x = x + ops.cast(self.positional_embedding[:length], x.dtype)
        x = self.ln_final(self.transformer(x))
        # A one-hot product picks the end-of-text position exactly and works on every backend.
        selector = ops.one_hot(ops.argmax(token_ids, axis=-1), length, dtype=x.dtype)
        x = ops.einsum("bl,bld->bd", selector, x)
        return ops.matmul(x, ops.cast(self.text_projection, x.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "max_sequence_length": self.max_sequence_length,
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "output_dim": self.output_dim,
        }
