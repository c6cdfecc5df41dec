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
        context_length: number of learned positions (77).
        vocab_size: number of tokens (49408).
        width: transformer width (512 for ViT-B/32).
        heads: attention heads (width // 64).
        layers: number of transformer blocks (12).
        output_dim: size of the projected embedding (512 for ViT-B/32).

    Example:
    ```python
    encoder = CLIPTextEncoder(context_length=77, vocab_size=49408, width=512, heads=8,
                              layers=12, output_dim=512)
    embeddings = encoder(token_ids)   # token_ids: (B, 77) int -> (B, 512), not normalized
    ```
    """

    def __init__(self, context_length, vocab_size, width, heads, layers, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.context_length = context_length
        self.vocab_size = vocab_size
        self.width = width
        self.heads = heads
        self.layers_count = layers
        self.output_dim = output_dim
        policy = self.dtype_policy
        self.token_embedding = keras.layers.Embedding(vocab_size, width, name="token_embedding", dtype=policy)
        self.transformer = Transformer(width, layers, heads, causal=True, name="transformer", dtype=policy)
        self.ln_final = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_final", dtype=policy)
        self.build((None, context_length))

    def build(self, input_shape):
        sequence_shape = (None, self.context_length, self.width)
        self.token_embedding.build(input_shape)
        self.positional_embedding = self.add_weight(
            shape=(self.context_length, self.width), initializer="zeros", name="positional_embedding"
        )
        self.transformer.build(sequence_shape)
        self.ln_final.build(sequence_shape)
        self.text_projection = self.add_weight(
            shape=(self.width, self.output_dim), initializer="zeros", name="text_projection"
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
            "context_length": self.context_length,
            "vocab_size": self.vocab_size,
            "width": self.width,
            "heads": self.heads,
            "layers": self.layers_count,
            "output_dim": self.output_dim,
        }
