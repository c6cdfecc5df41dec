"""ClipCap: CLIP image encoder -> mapper -> GPT-2, as one Keras model."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ClipCapModel(keras.Model):
    """Joins a CLIP image encoder, a ClipCap mapper and a GPT-2 decoder.

    Calling the model mirrors the official `ClipCaptionModel.forward`: the mapped prefix is
    concatenated with the caption's token embeddings and GPT-2 returns logits for every position.

    Args:
        image_encoder: a CLIP image encoder (images NHWC -> embedding), or None when the model is
            only fed precomputed CLIP embeddings (training on cached embeddings).
        mapper: `ClipCapMLPMapper`, `ClipCapTransformerMapper`, or `ClipCapTemporalMapper` (a temporal
            model: its input is a clip of frame embeddings (batch, frames, E) with a frame mask).
        decoder: `GPT2Decoder`, or the LSTM baseline's `LSTMDecoder` (with a ResNet-50 image encoder and a
            one-position prefix; see `lstm_captioner.build_lstm_captioner`).
        normalize_prefix: L2-normalise the CLIP embedding before the mapper (the official
            Transformer checkpoint was trained that way; the MLP ones were not).

    Example:
    ```python
    model = ClipCapModel(image_encoder, ClipCapMLPMapper(input_dim=512, prefix_length=10, hidden_dim=768),
                         GPT2Decoder())
    embedding = model.encode_images(images)          # (batch, 512)
    prefix = model.embed_prefix(embedding)           # (batch, 10, 768)
    logits = model({"clip_embedding": embedding, "token_ids": token_ids})
    # a temporal mapper: clips of frame embeddings, 0 in the mask for padding frames
    logits = model({"clip_embedding": frames, "frame_mask": frame_mask, "token_ids": token_ids})
    ```
    """

    def __init__(self, image_encoder, mapper, decoder, normalize_prefix=False, **kwargs):
        super().__init__(**kwargs)
        self.image_encoder = image_encoder
        self.mapper = mapper
        self.decoder = decoder
        self.normalize_prefix = normalize_prefix
        self.built = True

    @property
    def prefix_length(self):
        return self.mapper.prefix_length

    @property
    def max_frames(self):
        """Frames per clip of a temporal model (its mapper reads frame sequences); None for an image model."""
        return getattr(self.mapper, "max_frames", None)

    def encode_images(self, images):
        if self.image_encoder is None:
            raise ValueError("This ClipCapModel has no image encoder: pass CLIP embeddings instead of images.")
        return self.image_encoder(images)

    def embed_prefix(self, clip_embedding, frame_mask=None):
        """The GPT-2 prefix of CLIP embeddings (batch, E); for a temporal model also of clips
        (batch, frames, E) with `frame_mask` (batch, frames), 0 for padding frames."""
        clip_embedding = ops.cast(clip_embedding, self.compute_dtype)
        if self.max_frames is None:
            if self.normalize_prefix:
                clip_embedding = clip_embedding / ops.norm(clip_embedding, axis=-1, keepdims=True)
            return self.mapper(clip_embedding)
        if self.normalize_prefix:  # a padding frame may be all zeros: keep it finite
            norm = ops.norm(clip_embedding, axis=-1, keepdims=True)
            clip_embedding = clip_embedding / ops.maximum(norm, ops.cast(1e-6, norm.dtype))
        return self.mapper(clip_embedding, frame_mask)

    def call(self, inputs, training=False):
        """inputs: {"clip_embedding": (B, E) or "images": (B, H, W, 3), "token_ids": (B, T),
        optional "padding_mask": (B, T)}; "images" trains the image encoder jointly. A temporal
        model reads "clip_embedding" (B, F, E) and "frame_mask" (B, F)."""
        if "images" in inputs:
            clip_embedding = self.image_encoder(inputs["images"], training=training)
        else:
            clip_embedding = inputs["clip_embedding"]
        prefix = self.embed_prefix(clip_embedding, inputs.get("frame_mask"))
        tokens = self.decoder.embed_tokens(inputs["token_ids"])
        embeddings = ops.concatenate([prefix, ops.cast(tokens, prefix.dtype)], axis=1)
        padding_mask = inputs.get("padding_mask")
        if padding_mask is not None:
            prefix_mask = ops.ones((ops.shape(prefix)[0], self.prefix_length), dtype=padding_mask.dtype)
            padding_mask = ops.concatenate([prefix_mask, padding_mask], axis=1)
        return self.decoder(embeddings, padding_mask=padding_mask, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "image_encoder": keras.saving.serialize_keras_object(self.image_encoder),
            "mapper": keras.saving.serialize_keras_object(self.mapper),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "normalize_prefix": self.normalize_prefix,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("image_encoder", "mapper", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
