"""CLIP's contrastive objective: an image encoder and a text encoder scored by scaled cosine similarity."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="image_captioning")
class ContrastiveCLIP(keras.Model):
    """Pairs an image encoder with a text encoder; calling it gives the (B, B) image-text logits.

    The logit scale is learned on a log scale, starts at 1/0.07 and is capped at 100, as in the
    CLIP paper (the paper clips the parameter after each step; capping it in the forward pass gives
    the same logits and no gradient beyond the cap).

    Args:
        image_encoder: a CLIP image encoder (NHWC preprocessed images -> (B, D)).
        text_encoder: a `CLIPTextEncoder` ((B, L) token ids -> (B, D)).
        initial_scale: starting value of the logit scale.
        max_scale: largest value of the logit scale.

    Example:
    ```python
    clip = ContrastiveCLIP(image_encoder, text_encoder)
    logits = clip({"images": images, "token_ids": token_ids})   # logits[i, j]: image i vs text j
    loss = SymmetricInfoNCE()(ops.zeros(len(images)), logits)   # targets: the diagonal
    ```
    """

    def __init__(self, image_encoder, text_encoder, initial_scale=1 / 0.07, max_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        self.image_encoder = image_encoder
        self.text_encoder = text_encoder
        self.initial_scale = float(initial_scale)
        self.max_scale = float(max_scale)
        self.log_scale = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(math.log(self.initial_scale)), name="log_scale"
        )

    @property
    def logit_scale(self):
        return ops.minimum(ops.exp(self.log_scale), self.max_scale)

    def embed_images(self, images, training=False):
        return _unit(self.image_encoder(images, training=training))

    def embed_texts(self, token_ids, training=False):
        return _unit(self.text_encoder(token_ids, training=training))

    def call(self, inputs, training=False):
        images = self.embed_images(inputs["images"], training=training)
        texts = self.embed_texts(inputs["token_ids"], training=training)
        return ops.cast(self.logit_scale, images.dtype) * ops.matmul(images, ops.transpose(texts))

    def get_config(self):
        return {
            "image_encoder": keras.saving.serialize_keras_object(self.image_encoder),
            "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
            "initial_scale": self.initial_scale,
            "max_scale": self.max_scale,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("image_encoder", "text_encoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


@keras.saving.register_keras_serializable(package="image_captioning")
class SymmetricInfoNCE(keras.losses.Loss):
    """Mean of the image->text and text->image cross-entropies; pair i of the batch is the positive.

    `y_true` (any (B,) array, e.g. zeros) is ignored: the targets are the diagonal of the logits.

    Args:
        name: loss name.

    Example:
    ```python
    SymmetricInfoNCE()(ops.zeros(4), ops.eye(4) * 10.0)   # near 0: every image picks its own text
    ```
    """

    def __init__(self, name="symmetric_info_nce", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, logits):
        logits = ops.cast(logits, "float32")
        targets = ops.arange(ops.shape(logits)[0])
        image_to_text = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        text_to_image = keras.losses.sparse_categorical_crossentropy(targets, ops.transpose(logits), from_logits=True)
        return (image_to_text + text_to_image) / 2.0


def _unit(x):
    x = ops.cast(x, "float32")
    return x / ops.maximum(ops.norm(x, axis=-1, keepdims=True), 1e-12)
