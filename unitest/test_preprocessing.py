"""CLIP preprocessing (PIL/NumPy and TensorFlow paths) against a reproduction of OpenAI's torchvision transform."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from image_captioning.media.clip_preprocessing import CLIP_MEAN, CLIP_STD, clip_preprocess_numpy, clip_preprocess_tf

# (file, transposed to make a portrait, resolution). horse.png is single-channel; some cases upscale.
CASES = [
    ("messi5.jpg", False, 224),
    ("messi5.jpg", True, 288),
    ("chelsea.png", False, 336),
    ("building.jpg", False, 224),
    ("horse.png", False, 224),
    ("horse.png", True, 448),
    ("coffee.png", True, 384),
    ("orange.jpg", False, 224),
]
# TF's antialiased bicubic in float vs PIL's 8-bit fixed-point resampler. Measured on these cases:
# mean abs diff <= 3e-6, and a few pixels (~0.02 %) one uint8 level apart (1 / 255 / std ~ 0.015).
ONE_LEVEL = 1.0 / 255.0 / min(CLIP_STD)
TF_MEAN_ABS_TOLERANCE = 1e-5
TF_MAX_ABS_TOLERANCE = 1.001 * ONE_LEVEL
TF_DIFFERING_FRACTION = 1e-3


def openai_reference(pil_image, n_px):
    """torchvision Resize(n_px, BICUBIC) + CenterCrop + convert("RGB") + ToTensor + Normalize, as HWC."""
    width, height = pil_image.size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = n_px, int(n_px * long / short)
    new_width, new_height = (new_short, new_long) if width <= height else (new_long, new_short)
    if (new_width, new_height) != (width, height):
        pil_image = pil_image.resize((new_width, new_height), Image.BICUBIC)
    top = int(round((new_height - n_px) / 2.0))
    left = int(round((new_width - n_px) / 2.0))
    pil_image = pil_image.crop((left, top, left + n_px, top + n_px)).convert("RGB")
    tensor = np.asarray(pil_image, dtype=np.uint8).astype(np.float32) / np.float32(255)
    return (tensor - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)


def load_case(shared_data, name, transpose):
    image = Image.open(shared_data / "images" / name)
    image.load()
    if transpose:
        image = image.transpose(Image.Transpose.ROTATE_90)
    return image


@pytest.mark.parametrize("name,transpose,resolution", CASES)
def test_numpy_path_matches_openai(shared_data, name, transpose, resolution):
    image = load_case(shared_data, name, transpose)
    expected = openai_reference(image, resolution)
    actual = clip_preprocess_numpy(np.asarray(image.convert("RGB")), resolution)
    assert actual.shape == (resolution, resolution, 3) and actual.dtype == np.float32
    diff = float(np.max(np.abs(actual - expected)))
    print(f"numpy {name} transpose={transpose} @{resolution}: max abs diff {diff:.2e}")
    assert diff <= 1e-6


@pytest.mark.parametrize("name,transpose,resolution", CASES)
def test_tf_path_close_to_openai(shared_data, name, transpose, resolution):
    image = load_case(shared_data, name, transpose)
    expected = openai_reference(image, resolution)
    actual = clip_preprocess_tf(tf.constant(np.asarray(image.convert("RGB"))), resolution).numpy()
    assert actual.shape == (resolution, resolution, 3) and actual.dtype == np.float32
    error = np.abs(actual - expected)
    mean_diff, max_diff = float(error.mean()), float(error.max())
    differing = float(np.mean(error > 1e-5))
    print(
        f"tf {name} transpose={transpose} @{resolution}: mean abs diff {mean_diff:.2e}, "
        f"max abs diff {max_diff:.2e}, values differing {differing:.4%}"
    )
    assert mean_diff <= TF_MEAN_ABS_TOLERANCE
    assert max_diff <= TF_MAX_ABS_TOLERANCE
    assert differing <= TF_DIFFERING_FRACTION


def test_tf_path_runs_in_dataset_map_with_unknown_sizes(shared_data):
    images = [np.asarray(load_case(shared_data, name, t).convert("RGB")) for name, t, _ in CASES[:3]]
    dataset = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec((None, None, 3), tf.uint8)
    ).map(lambda image: clip_preprocess_tf(image, 224))
    assert dataset.element_spec.shape == (224, 224, 3)
    for image, mapped in zip(images, dataset):
        np.testing.assert_allclose(mapped.numpy(), clip_preprocess_tf(image, 224).numpy(), atol=1e-6)


def test_square_input_at_resolution_is_only_normalized():
    image = np.random.default_rng(0).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    expected = (image.astype(np.float32) / 255.0 - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    np.testing.assert_array_equal(clip_preprocess_numpy(image, 224), expected)
    np.testing.assert_allclose(clip_preprocess_tf(image, 224).numpy(), expected, atol=1e-6)


def test_rejects_non_rgb_input():
    with pytest.raises(ValueError, match="RGB"):
        clip_preprocess_numpy(np.zeros((10, 12), np.uint8), 8)
    with pytest.raises(ValueError, match="RGB"):
        clip_preprocess_tf(np.zeros((10, 12, 4), np.uint8), 8)
