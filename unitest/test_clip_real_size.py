"""Real-size CLIP (ViT-B/32, RN50x4) with random weights: TorchScript archive -> Keras, vs OpenAI's code."""

import numpy as np
import pytest
from keras import ops

from custom_architectures.clip import CLIP_CONFIGS, image_encoder_config
from image_captioning.converters.openai_clip import load_openai_clip
from unitest.parity import max_abs_diff
from unitest.references.openai_clip import (
    architecture,
    build_openai_clip,
    encode_image,
    encode_text,
    random_token_ids,
    save_torchscript_archive,
)

pytestmark = pytest.mark.real_size

TOLERANCE = 1e-4


def load_through_archive(name, tmp_path_factory):
    reference = build_openai_clip(CLIP_CONFIGS[name], seed=0)
    path = save_torchscript_archive(reference, tmp_path_factory.mktemp("clip") / "model.pt")
    image_encoder, text_encoder = load_openai_clip(path)
    path.unlink()
    return reference, image_encoder, text_encoder


@pytest.fixture(scope="module")
def vit_b32(tmp_path_factory):
    return load_through_archive("ViT-B/32", tmp_path_factory)


@pytest.fixture(scope="module")
def rn50x4(tmp_path_factory):
    return load_through_archive("RN50x4", tmp_path_factory)


def check_image_parity(name, reference, image_encoder):
    expected_config = CLIP_CONFIGS[name]["image_encoder"]
    projection = {"use_projection": True} if expected_config["type"] == "vit" else {}  # OpenAI's ViTs always project
    assert architecture(image_encoder_config(image_encoder)) == {**expected_config, **projection}
    size = image_encoder.input_resolution
    images = np.random.default_rng(0).standard_normal((2, size, size, 3)).astype("float32")
    expected = encode_image(reference, images)
    actual = ops.convert_to_numpy(image_encoder(images))
    diff = max_abs_diff(actual, expected)
    print(f"{name} image embeddings: max abs diff {diff:.2e}, reference max |x| {np.abs(expected).max():.3f}")
    assert actual.dtype == np.float32 and actual.shape == (2, expected_config["output_dim"])
    assert np.std(expected) > 0.1
    assert diff <= TOLERANCE


def test_vit_b32_image_embeddings(vit_b32):
    check_image_parity("ViT-B/32", vit_b32[0], vit_b32[1])


def test_rn50x4_image_embeddings(rn50x4):
    check_image_parity("RN50x4", rn50x4[0], rn50x4[1])


def test_vit_b32_text_embeddings(vit_b32):
    reference, _, text_encoder = vit_b32
    assert architecture(text_encoder.get_config()) == CLIP_CONFIGS["ViT-B/32"]["text_encoder"]
    token_ids = random_token_ids(np.random.default_rng(1), 2, 77, 49408)
    expected = encode_text(reference, token_ids)
    diff = max_abs_diff(text_encoder(token_ids), expected)
    print(f"ViT-B/32 text embeddings: max abs diff {diff:.2e}, reference max |x| {np.abs(expected).max():.3f}")
    assert np.std(expected) > 0.1
    assert diff <= TOLERANCE
