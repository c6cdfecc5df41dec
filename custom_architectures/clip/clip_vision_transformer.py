"""CLIP ViT image encoder, mirroring OpenAI's `VisionTransformer` (`clip/model.py`)."""

import keras
from keras import ops

from custom_architectures.clip.clip_layers import LAYER_NORM_EPSILON, Transformer


@keras.saving.register_keras_serializable(package="custom_architectures")
class CLIPVisionTransformer(keras.Model):
    """Vision transformer that maps normalized NHWC images to CLIP image embeddings.

    Args:
        input_resolution: image height and width (224 for ViT-B/32).
        patch_size: side of the square patches (32 for ViT-B/32).
        hidden_dim: transformer width (768 for ViT-B/32).
        num_layers: number of transformer blocks.
        num_heads: attention heads (hidden_dim // 64 in OpenAI's models).
        output_dim: size of the projected embedding (512 for ViT-B/32).
        use_projection: False returns the final-norm class token without the projection (Hugging
            Face's `pooler_output`, what jmisilo/clip-gpt-captioning reads); `output_dim` must then
            equal `hidden_dim`.

    Example:
    ```python
    encoder = CLIPVisionTransformer(input_resolution=224, patch_size=32, hidden_dim=768,
                                    num_layers=12, num_heads=12, output_dim=512)
    embeddings = encoder(images)   # images: (B, 224, 224, 3) float32 -> (B, 512), not normalized
    pooled = CLIPVisionTransformer(224, 32, 768, 12, 12, output_dim=768, use_projection=False)(images)  # (B, 768)
    ```
    """

    def __init__(self, input_resolution, patch_size, hidden_dim, num_layers, num_heads, output_dim, use_projection=True,
                 **kwargs):
        super().__init__(**kwargs)
        if not use_projection and output_dim != hidden_dim:
            raise ValueError(
                f"Without the projection the embedding is the {hidden_dim}-wide class token: pass "
                f"output_dim={hidden_dim} (got {output_dim}) or use_projection=True."
            )
        self.input_resolution = input_resolution
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.output_dim = output_dim
        self.use_projection = use_projection
        self.grid_size = input_resolution // patch_size
        policy = self.dtype_policy

        self.conv1 = keras.layers.Conv2D(
            hidden_dim, patch_size, strides=patch_size, use_bias=False, name="conv1", dtype=policy
        )
        self.ln_pre = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_pre", dtype=policy)
        self.transformer = Transformer(hidden_dim, num_layers, num_heads, name="transformer", dtype=policy)
        self.ln_post = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ln_post", dtype=policy)
        self.build((None, input_resolution, input_resolution, 3))

    def build(self, input_shape):
        sequence_shape = (None, self.grid_size**2 + 1, self.hidden_dim)
        self.conv1.build(input_shape)
        self.class_embedding = self.add_weight(shape=(self.hidden_dim,), initializer="zeros", name="class_embedding")
        self.positional_embedding = self.add_weight(
            shape=(self.grid_size**2 + 1, self.hidden_dim), initializer="zeros", name="positional_embedding"
        )
        self.ln_pre.build(sequence_shape)
        self.transformer.build(sequence_shape)
        self.ln_post.build((None, self.hidden_dim))
        if self.use_projection:
            self.proj = self.add_weight(shape=(self.hidden_dim, self.output_dim), initializer="zeros", name="proj")
        self.built = True

    def call(self, images):
        x = self.conv1(images)  # (B, grid, grid, hidden_dim)
        batch = ops.shape(x)[0]
        x = ops.reshape(x, (batch, -1, self.hidden_dim))
        class_token = ops.broadcast_to(ops.cast(self.class_embedding, x.dtype), (batch, 1, self.hidden_dim))
        x = ops.concatenate([class_token, x], axis=1)
        x = x + ops.cast(self.positional_embedding, x.dtype)
        x = self.transformer(self.ln_pre(x))
        pooled = self.ln_post(x[:, 0, :])
        if not self.use_projection:
            return pooled
        return ops.matmul(pooled, ops.cast(self.proj, x.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_resolution": self.input_resolution,
            "patch_size": self.patch_size,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "output_dim": self.output_dim,
            "use_projection": self.use_projection,
        }
