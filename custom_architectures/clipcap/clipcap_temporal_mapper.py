"""A temporal ClipCap mapper: a Transformer over a clip's frame embeddings -> one GPT-2 prefix."""

import keras
from keras import ops

from custom_architectures.clipcap.clipcap_transformer_mapper import add_prefix_transformer, run_prefix_transformer


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapTemporalMapper(keras.layers.Layer):
    """Maps the CLIP embeddings of a clip's frames, in order, to prefix embeddings.

    In the style of the official Transformer mapper (`ClipCapTransformerMapper`): each frame
    embedding becomes one token (`linear`) plus a learned embedding of its place in the clip
    (`frame_position_embedding`), a learned `prefix_const` of `prefix_length` tokens is appended,
    and the Transformer output at those last positions is the prefix. Because the frames carry
    their order, a shape moving left and one moving right give different prefixes, where the
    mean of the frame embeddings is the same.

    `frame_mask` (batch, frames) marks real frames with 1 and padding with 0, for clips shorter
    than the others of a batch: no token attends to a padding frame, so padding frames (their
    values and their number) change nothing. A (batch, input_dim) input is a batch of 1-frame clips
    (an image).

    Args:
        input_dim: width of the CLIP frame embeddings it reads.
        hidden_dim: width of its tokens and of each prefix embedding, GPT-2's `hidden_dim`.
        prefix_length: prefix embeddings produced.
        max_frames: most frames of a clip (rows of the frame-position table).
        num_layers: Transformer layers.
        num_heads: attention heads.
        intermediate_dim: width of each layer's MLP hidden layer; `2 * hidden_dim` when None
            (the official mapper's `mlp_ratio` of 2).

    Example:
    ```python
    mapper = ClipCapTemporalMapper(input_dim=128, hidden_dim=48, prefix_length=6, max_frames=8)
    prefix = mapper(frame_embeddings, frame_mask)  # (batch, 8, 128), (batch, 8) -> (batch, 6, 48)
    prefix = mapper(image_embeddings)              # (batch, 128): 1-frame clips -> (batch, 6, 48)
    ```
    """

    def __init__(
        self,
        input_dim=512,
        hidden_dim=768,
        prefix_length=10,
        max_frames=8,
        num_layers=2,
        num_heads=8,
        intermediate_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Layers ===
        self.linear = keras.layers.Dense(hidden_dim, dtype=self.dtype_policy, name="linear")
        self.linear.build((None, None, input_dim))
        self.frame_position_embedding = self.add_weight(
            shape=(max_frames, hidden_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="frame_position_embedding",
        )
        self.prefix_const, self.transformer_layers = add_prefix_transformer(
            self, prefix_length, hidden_dim, num_layers, num_heads, intermediate_dim or 2 * hidden_dim
        )
        # === Config ===
        self.input_dim = input_dim
        self.hidden_dim = hidden_dim
        self.prefix_length = prefix_length
        self.max_frames = max_frames
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim or 2 * hidden_dim
        self.built = True

    def call(self, frame_embeddings, frame_mask=None):
        if len(frame_embeddings.shape) == 2:
            frame_embeddings = frame_embeddings[:, None, :]
            frame_mask = None
        batch, frames = ops.shape(frame_embeddings)[0], frame_embeddings.shape[1]
        if frames is not None and frames > self.max_frames:
            raise ValueError(f"A clip of {frames} frames is longer than this mapper's max_frames={self.max_frames}: "
                             "sample fewer frames, or build the mapper with a larger max_frames.")
        frames = ops.shape(frame_embeddings)[1] if frames is None else frames
        if frame_mask is None:
            frame_mask = ops.ones((batch, frames), dtype="bool")
        frame_mask = ops.cast(frame_mask, "bool")
        # Padding frames are zeroed first, so that even NaN there stays out of every product.
        frame_embeddings = ops.where(frame_mask[:, :, None], frame_embeddings, ops.zeros_like(frame_embeddings))
        x = self.linear(frame_embeddings)
        x = x + ops.cast(self.frame_position_embedding[:frames], x.dtype)[None]
        return run_prefix_transformer(x, self.prefix_const, self.transformer_layers, token_mask=frame_mask)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "hidden_dim": self.hidden_dim,
            "prefix_length": self.prefix_length,
            "max_frames": self.max_frames,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
        }
