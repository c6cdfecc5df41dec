"""The LSTM baseline's image encoder: Keras' ResNet-50, average-pooled, reading normalised pixels."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="custom_architectures")
class ResNet50ImageEncoder(keras.Model):
    """`keras.applications.ResNet50` without its classifier: normalised NHWC images -> 2048-d features.

    Inputs arrive normalised as `(rgb / 255 - input_mean) / input_std` (the captioning pipeline feeds
    CLIP-normalised pixels to every model); the encoder undoes that and applies ResNet-50's own
    ImageNet preprocessing (BGR, channel means subtracted), so ImageNet weights see what they were
    trained on. The weights start random: ImageNet weights are loaded by the caller (no I/O here).
    `keras.applications.ResNet50` has no width setting, so a from-scratch run can only shrink the
    input (`input_resolution` >= 32), not the network.

    Args:
        input_resolution: image height and width (224 for ImageNet weights; smaller from scratch).
        input_mean: per-channel mean the inputs were normalised with, in [0, 1] RGB units.
        input_std: per-channel standard deviation the inputs were normalised with.

    Example:
    ```python
    encoder = ResNet50ImageEncoder(input_resolution=64, input_mean=CLIP_MEAN, input_std=CLIP_STD)
    features = encoder(clip_preprocessed_images)   # (B, 64, 64, 3) -> (B, 2048)
    ```
    """

    output_dim = 2048

    def __init__(self, input_resolution=224, input_mean=(0.0, 0.0, 0.0), input_std=(1.0, 1.0, 1.0), **kwargs):
        super().__init__(**kwargs)
        if input_resolution < 32:
            raise ValueError(f"input_resolution must be at least 32 (ResNet-50 downsamples 32 times), got {input_resolution}.")
        # === Layers ===
        # keras.applications builds its layers with the global dtype policy: make that this model's meanwhile.
        global_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.dtype_policy)
        try:
            self.backbone = keras.applications.ResNet50(
                include_top=False, weights=None, input_shape=(input_resolution, input_resolution, 3), pooling="avg",
                name="backbone",
            )
        finally:
            keras.config.set_dtype_policy(global_policy)
        # === Config ===
        self.input_resolution = input_resolution
        self.input_mean = tuple(float(v) for v in input_mean)
        self.input_std = tuple(float(v) for v in input_std)
        self.built = True

    def call(self, images, training=False):
        pixels = (ops.cast(images, "float32") * ops.array(self.input_std) + ops.array(self.input_mean)) * 255.0
        return self.backbone(keras.applications.resnet50.preprocess_input(pixels), training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_resolution": self.input_resolution,
            "input_mean": self.input_mean,
            "input_std": self.input_std,
        }
