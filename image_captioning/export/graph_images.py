"""Encoded images (JPEG, PNG, GIF, BMP bytes) -> CLIP-preprocessed float32 batch, in TensorFlow ops only.

Matches `media.images.load_image` + `clip_preprocess_tf` (what `ClipCap.predict` does) for the
images a camera or an exporter usually writes: grayscale is repeated to RGB, transparency is
composited on white, and short sides over `max_short_side` are reduced with area interpolation.
JPEGs are decoded with the accurate IDCT, as PIL does, so their pixels are bit-identical to
predict's (unitest/test_export_saved_model.py checks). Not replicated in the graph: EXIF
orientation (send upright pixels), PIL's JPEG draft-mode decoding of images with a short side over
`max_short_side` (results differ slightly there), and PIL's 16-bit PNG scaling.
"""

import tensorflow as tf

from image_captioning.media.clip_preprocessing import clip_preprocess_tf


def to_rgb(image):
    """uint8 (H, W, C) with C in 1..4 -> uint8 (H, W, 3); alpha is composited on white."""
    channels = tf.shape(image)[-1]

    def composite(rgb, alpha):
        alpha = tf.cast(alpha, tf.float32) / 255.0
        mixed = tf.cast(rgb, tf.float32) * alpha + 255.0 * (1.0 - alpha)
        return tf.cast(tf.round(mixed), tf.uint8)  # tf.round is half-to-even, as np.round in media.images

    return tf.switch_case(
        channels - 1,
        [
            lambda: tf.repeat(image[..., :1], 3, axis=-1),
            lambda: composite(tf.repeat(image[..., :1], 3, axis=-1), image[..., 1:2]),
            lambda: image[..., :3],
            lambda: composite(image[..., :3], image[..., 3:4]),
        ],
    )


def cap_short_side(image, max_short_side):
    """Area-resizes uint8 (H, W, 3) so min(H, W) <= max_short_side, as `media.images.cap_short_side`."""
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    short = tf.minimum(height, width)

    def shrink():
        scale = tf.cast(max_short_side, tf.float64) / tf.cast(short, tf.float64)
        size = tf.stack([
            tf.maximum(1, tf.cast(tf.round(tf.cast(height, tf.float64) * scale), tf.int32)),
            tf.maximum(1, tf.cast(tf.round(tf.cast(width, tf.float64) * scale), tf.int32)),
        ])
        return tf.cast(tf.round(tf.image.resize(image, size, method="area")), tf.uint8)

    return tf.cond(short > max_short_side, shrink, lambda: image)


def decode_image(encoded, max_short_side=1024):
    """One encoded image (scalar tf.string) -> upright-as-stored uint8 RGB (H, W, 3)."""
    # TensorFlow's default JPEG IDCT is libjpeg's fast one; PIL uses the accurate one, and with it
    # (and fancy upsampling, both libraries' default) the pixels are bit-identical to predict's.
    image = tf.cond(
        tf.io.is_jpeg(encoded),
        lambda: tf.io.decode_jpeg(encoded, channels=0, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(encoded, channels=0, dtype=tf.uint8, expand_animations=False),
    )
    image = tf.ensure_shape(to_rgb(image), (None, None, 3))
    return cap_short_side(image, max_short_side) if max_short_side else image


def preprocess_encoded_images(encoded, resolution, max_short_side=1024):
    """encoded (N,) tf.string -> (N, resolution, resolution, 3) float32 CLIP inputs."""
    return tf.map_fn(
        lambda item: clip_preprocess_tf(decode_image(item, max_short_side), resolution),
        encoded,
        fn_output_signature=tf.TensorSpec((resolution, resolution, 3), tf.float32),
    )
