"""CLIP image preprocessing, as OpenAI's `clip.load` transform does it.

OpenAI: Resize(n_px, BICUBIC) of the short side (PIL), CenterCrop(n_px), ToTensor (/255),
Normalize(CLIP_MEAN, CLIP_STD). `clip_preprocess_numpy` follows that path exactly with PIL;
`clip_preprocess_tf` is a TensorFlow graph op for `tf.data` that resizes with TensorFlow's
antialiased bicubic in PIL's two 8-bit passes; on real photos ~0.02 % of its values are one uint8
level off PIL's (see unitest/test_preprocessing.py). TensorFlow is imported only by that path.
Outputs are (n_px, n_px, 3) float32, channels last.
"""

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_MEAN = np.array(CLIP_MEAN, dtype=np.float32)
_STD = np.array(CLIP_STD, dtype=np.float32)


def resized_size(height, width, resolution):
    """(height, width) after torchvision's Resize(resolution): short side -> resolution, ratio kept."""
    short, long = min(height, width), max(height, width)
    new_long = resolution * long // short  # = int(resolution * long / short) for image-sized integers
    return (new_long, resolution) if width <= height else (resolution, new_long)


def _check_image(image):
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"Expected one uint8 RGB image of shape (height, width, 3), got {image.dtype} {image.shape}; "
            "convert grayscale or RGBA images to RGB first"
        )


def clip_preprocess_numpy(image, resolution):
    """One uint8 (H, W, 3) RGB NumPy image -> normalized (resolution, resolution, 3) float32, via PIL."""
    image = np.asarray(image)
    _check_image(image)
    height, width = image.shape[:2]
    new_height, new_width = resized_size(height, width, resolution)
    resized = np.asarray(Image.fromarray(image).resize((new_width, new_height), Image.BICUBIC))
    # torchvision's CenterCrop offset is round((size - crop) / 2) with Python's round-half-to-even.
    top = round((new_height - resolution) / 2)
    left = round((new_width - resolution) / 2)
    cropped = resized[top : top + resolution, left : left + resolution]
    return (cropped.astype(np.float32) / np.float32(255.0) - _MEAN) / _STD


def clip_preprocess_tf(image, resolution):
    """One uint8 (H, W, 3) RGB image tensor -> normalized (resolution, resolution, 3) float32.

    Pure TensorFlow (works inside `tf.data.Dataset.map` with unknown image sizes).
    """
    import tensorflow as tf

    image = tf.convert_to_tensor(image)
    if image.dtype != tf.uint8:
        raise ValueError(f"Expected a uint8 image tensor, got {image.dtype.name}")
    image.shape.assert_has_rank(3)
    if image.shape[-1] is not None and image.shape[-1] != 3:
        raise ValueError(f"Expected an RGB image with 3 channels, got shape {image.shape}")
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    new_long = resolution * tf.maximum(height, width) // tf.minimum(height, width)
    new_height = tf.where(width <= height, new_long, resolution)
    new_width = tf.where(width <= height, resolution, new_long)
    # PIL resamples width then height, storing uint8 (rounded, clipped) after each pass; doing the
    # same keeps bicubic overshoot at sharp edges close to PIL's.
    resized = _resize_to_uint8_levels(tf.cast(image, tf.float32), tf.stack([height, new_width]))
    resized = _resize_to_uint8_levels(resized, tf.stack([new_height, new_width]))
    top = tf.cast(tf.round(tf.cast(new_height - resolution, tf.float32) / 2.0), tf.int32)  # half to even
    left = tf.cast(tf.round(tf.cast(new_width - resolution, tf.float32) / 2.0), tf.int32)
    cropped = tf.ensure_shape(resized[top : top + resolution, left : left + resolution], (resolution, resolution, 3))
    return (cropped / 255.0 - tf.constant(_MEAN)) / tf.constant(_STD)


def _resize_to_uint8_levels(image, size):
    import tensorflow as tf

    resized = tf.image.resize(image, size, method="bicubic", antialias=True)
    return tf.clip_by_value(tf.floor(resized + 0.5), 0.0, 255.0)  # PIL rounds half up
