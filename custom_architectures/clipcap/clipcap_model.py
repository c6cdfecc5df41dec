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
        mapper: `ClipCapMLPMapper` or `ClipCapTransformerMapper`.
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

    def encode_images(self, images):
        if self.image_encoder is None:
            raise ValueError("This ClipCapModel has no image encoder: pass CLIP embeddings instead of images.")
        return self.image_encoder(images)

    def embed_prefix(self, clip_embedding):
        clip_embedding = ops.cast(clip_embedding, self.compute_dtype)
        if self.normalize_prefix:
            clip_embedding = clip_embedding / ops.norm(clip_embedding, axis=-1, keepdims=True)
        return self.mapper(clip_embedding)

    def call(self, inputs, training=False):
        """inputs: {"clip_embedding": (B, E) or "images": (B, H, W, 3), "token_ids": (B, T),
        optional "padding_mask": (B, T)}; "images" trains the image encoder jointly."""
        if "images" in inputs:
            clip_embedding = self.image_encoder(inputs["images"], training=training)
        else:
            clip_embedding = inputs["clip_embedding"]
        prefix = self.embed_prefix(clip_embedding)
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
