"""The official ClipCap loss: next-token cross-entropy over the caption tokens after the prefix."""

import keras
from keras import ops

from image_captioning.training.distribution import sum_over_replicas

IGNORED_TOKEN = -1


@keras.saving.register_keras_serializable(package="image_captioning")
class CaptionLoss(keras.losses.Loss):
    """Mean cross-entropy of the caption tokens, padding (label -1) ignored; over the global batch when mirrored.

    The model returns logits for prefix + caption positions; position `prefix_length - 1 + t`
    predicts caption token `t`, as in the official training loop.

    Args:
        prefix_length: number of prefix embeddings before the caption.

    Example:
    ```python
    model.compile(optimizer, loss=CaptionLoss(prefix_length=10))
    model.fit({"clip_embedding": e, "token_ids": ids}, labels_with_minus_one_padding)
    ```
    """

    def __init__(self, prefix_length, name="caption_loss", **kwargs):
        super().__init__(name=name, reduction=None, **kwargs)
        self.prefix_length = prefix_length

    def call(self, labels, logits):
        length = ops.shape(labels)[1]
        logits = ops.cast(logits[:, self.prefix_length - 1 : self.prefix_length - 1 + length], "float32")
        mask = ops.cast(ops.not_equal(labels, IGNORED_TOKEN), "float32")
        safe_labels = ops.where(ops.equal(labels, IGNORED_TOKEN), 0, labels)
        losses = keras.losses.sparse_categorical_crossentropy(safe_labels, logits, from_logits=True)
        return ops.sum(losses * mask) / ops.maximum(sum_over_replicas(ops.sum(mask)), 1.0)

    def get_config(self):
        return {"prefix_length": self.prefix_length, "name": self.name}
