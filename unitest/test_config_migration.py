"""Model folders saved in format version 1 (before the keras-hub argument names) still load."""

import copy
import json
import shutil

import numpy as np
import pytest

from image_captioning import ClipCap
from image_captioning.converters.config_migration import migrate_model_config
from unitest.conftest import PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "unitest" / "fixtures"
DEMO = PROJECT_ROOT / "pretrained_models" / "shapes-demo"
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], "float32")
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], "float32")


def square_images():
    """Three CLIP-normalised 96 px images (the demo's resolution), each a coloured square on a light background."""
    images = np.full((3, 96, 96, 3), 230, np.uint8)
    for image, (color, top, left) in zip(images, [((220, 30, 30), 4, 4), ((30, 200, 40), 40, 36), ((30, 60, 220), 20, 22)]):
        image[top : top + 22, left : left + 22] = color
    return (images.astype("float32") / 255 - CLIP_MEAN) / CLIP_STD


def v1_config():
    return json.loads((FIXTURES / "shapes-demo-v1-config.json").read_text())


@pytest.fixture(scope="module")
def v1_folder(tmp_path_factory):
    """The shipped demo folder with its config.json as format version 1 wrote it."""
    folder = tmp_path_factory.mktemp("shapes-demo-v1")
    for path in DEMO.iterdir():
        shutil.copy(path, folder / path.name)
    shutil.copy(FIXTURES / "shapes-demo-v1-config.json", folder / "config.json")
    return folder


def captions_and_embeddings(folder):
    captioner = ClipCap.load_directory(folder)
    embeddings = np.asarray(captioner.encode_images(square_images()))
    return captioner.caption_embeddings(embeddings), embeddings


def test_migration_renames_arguments_and_leaves_its_input_alone():
    old = v1_config()
    original = copy.deepcopy(old)
    new = migrate_model_config(old)
    assert old == original
    assert new["format_version"] == 2
    parts = new["model"]["config"]
    assert parts["image_encoder"]["config"] == {
        "stackwise_num_blocks": [1, 1, 1, 1], "output_dim": 128, "num_heads": 8, "input_resolution": 96,
        "stem_filters": 16,
    }
    mapper = parts["mapper"]["config"]
    assert (mapper["input_dim"], mapper["hidden_dim"], mapper["name"]) == (128, 48, "mapper")
    assert "clip_dim" not in mapper and "gpt_dim" not in mapper
    assert parts["decoder"] == old["model"]["config"]["decoder"]  # GPT2Decoder already used these names
    assert new["generation"] == old["generation"]


def test_transformer_mapper_ratio_becomes_intermediate_dim():
    mapper = {
        "class_name": "ClipCapTransformerMapper",
        "config": {"clip_dim": 640, "gpt_dim": 768, "prefix_length": 40, "clip_length": 40, "num_layers": 8,
                   "num_heads": 8, "mlp_ratio": 2.0},
    }
    config = {"format_version": 1, "model": {"class_name": "ClipCapModel", "config": {"mapper": mapper}}}
    migrated = migrate_model_config(config)["model"]["config"]["mapper"]["config"]
    assert migrated == {"input_dim": 640, "hidden_dim": 768, "prefix_length": 40, "clip_length": 40,
                        "num_layers": 8, "num_heads": 8, "intermediate_dim": 1536}


def test_only_version_1_is_migrated():
    with pytest.raises(ValueError, match="format_version 1"):
        migrate_model_config({"format_version": 2, "model": {}})


def test_shipped_demo_is_version_2():
    assert json.loads((DEMO / "config.json").read_text())["format_version"] == 2


def test_version_1_folder_captions_like_version_1_code_and_the_shipped_version_2(v1_folder):
    # Recorded by the version 1 code (before the renames) on the same images.
    recorded = json.loads((FIXTURES / "shapes-demo-v1-captions.json").read_text())
    old_rows, old_embeddings = captions_and_embeddings(v1_folder)
    new_rows, new_embeddings = captions_and_embeddings(DEMO)
    np.testing.assert_array_equal(old_embeddings, new_embeddings)
    # Recorded on TensorFlow; other backends sum in another order (embeddings reach |x| ~ 200).
    np.testing.assert_allclose(new_embeddings, np.array(recorded["embeddings"], "float32"), rtol=1e-5, atol=1e-5)
    for rows in (old_rows, new_rows):
        assert [[c.token_ids for c in row] for row in rows] == recorded["token_ids"]
        assert [[c.text for c in row] for row in rows] == recorded["captions"]
