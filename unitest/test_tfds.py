"""TFDS data: the shapes_synthetic builder, `tfds:NAME[/CONFIG]` sources, and train + evaluate from one."""

import json

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")

from image_captioning.cli.data_arguments import training_config_from_arguments  # noqa: E402
from image_captioning.cli.main import build_parser, main  # noqa: E402
from image_captioning.datasets import read_dataset  # noqa: E402
from image_captioning.datasets.shapes_synthetic import Builder  # noqa: E402
from image_captioning.datasets.sources import data_source, read_split  # noqa: E402
from image_captioning.datasets.tfds_source import feature_roles, read_tfds  # noqa: E402
from image_captioning.media.images import load_image  # noqa: E402
from image_captioning.synthetic import generate_scenes, read_video_frames  # noqa: E402
from image_captioning.synthetic.canonical import with_canonical_captions  # noqa: E402
from image_captioning.training.train_config import tiny_overrides  # noqa: E402


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A TFDS data folder with shapes_synthetic/images_tiny prepared the way a user would."""
    data_dir = tmp_path_factory.mktemp("tfds")
    tfds.builder("shapes_synthetic/images_tiny", data_dir=str(data_dir)).download_and_prepare()
    return data_dir


@pytest.fixture(scope="module")
def local_dataset(tmp_path_factory):
    """The same scenes as shapes_synthetic/images_tiny, written by the synthetic source's generator."""
    return generate_scenes(tmp_path_factory.mktemp("local"), num_images=40, num_videos=0, seed=0, image_size=32)


def by_captions(records):
    return {tuple(record.captions): record for record in records}


def captions_by_pixels(records):
    return {load_image(record.media_path).tobytes(): record.captions for record in records}


def test_tfds_split_holds_the_scenes_generate_scenes_draws(tfds_dir, local_dataset):
    builder = tfds.builder("shapes_synthetic/images_tiny", data_dir=str(tfds_dir))
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {"train": 32, "validation": 4, "test": 4}
    for split in ("train", "val", "test"):
        from_tfds = by_captions(read_tfds("shapes_synthetic/images_tiny", split=split, data_dir=tfds_dir))
        from_files = by_captions(read_dataset(local_dataset.captions_csv, "folder_csv", split=split))
        assert from_tfds.keys() == from_files.keys()
        for captions, record in from_tfds.items():
            assert record.split == split and record.media_kind == "image"
            np.testing.assert_array_equal(load_image(record.media_path), load_image(from_files[captions].media_path))
    written = json.loads((tfds_dir / "shapes_synthetic/images_tiny/1.0.0/image_captioning/val/scenes.json").read_text())
    local_items = json.loads(local_dataset.scenes_json.read_text())["items"]
    local_scenes = {tuple(item["captions"]): item["scene"] for item in local_items}
    assert all(item["scene"] == local_scenes[tuple(item["captions"])] for item in written["items"])


def test_canonical_captions_come_from_the_stored_scenes(tfds_dir, local_dataset, tmp_path):
    """A preset's data.captions="canonical" on `--data tfds:` gives each item the canonical caption the
    synthetic source gives the same scene."""
    argv = ["train", "--preset", "shapes-demo", "--data", "tfds:shapes_synthetic/images_tiny", "--data-dir", str(tfds_dir),
            "--out", str(tmp_path / "run")]
    source = training_config_from_arguments(build_parser().parse_args(argv), tiny_overrides)["data"]
    assert source["captions"] == "canonical"
    for split in ("train", "test"):
        from_tfds = read_split(source, split)
        from_synthetic = with_canonical_captions(read_dataset(local_dataset.captions_csv, "folder_csv", split=split),
                                                 local_dataset.scenes_json)
        assert captions_by_pixels(from_tfds) == captions_by_pixels(from_synthetic)
        assert all(len(record.captions) == 1 for record in from_tfds)
    paraphrased = captions_by_pixels(read_split({**source, "captions": "paraphrases"}, "test"))
    assert captions_by_pixels(from_tfds).keys() == paraphrased.keys() and captions_by_pixels(from_tfds) != paraphrased
    with pytest.raises(ValueError, match=r"data.captions='best': use 'paraphrases' .* or 'canonical'"):
        read_split({**source, "captions": "best"}, "test")


def test_video_config_writes_playable_videos_with_their_scenes(tmp_path):
    records = read_tfds("shapes_synthetic/videos_tiny", split="validation", data_dir=tmp_path / "tfds",
                        media_dir=tmp_path / "media")
    assert len(records) == 2 and all(record.media_kind == "video" and record.split == "val" for record in records)
    folder = tmp_path / "media" / "shapes_synthetic/videos_tiny/1.0.0" / "val"
    items = json.loads((folder / "scenes.json").read_text())["items"]
    for record, item in zip(records, items):
        frames = read_video_frames(record.media_path)
        assert frames.shape[1:] == (32, 32, 3)
        assert len(frames) == sum(shot["num_frames"] for shot in item["scene"]["shots"])
        assert record.captions == item["captions"]


def test_train_and_evaluate_commands_read_tfds(tfds_dir, tmp_path, capsys):
    source = ["--data", "tfds:shapes_synthetic/images_tiny", "--data-dir", str(tfds_dir)]
    assert main(["train", "--tiny", *source, "--out", str(tmp_path / "run"),
                 "--set", "train.epochs=1", "--set", "train.jit_compile=false"]) == 0
    config = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert config["data"] == {"format": "tfds", "name": "shapes_synthetic/images_tiny", "data_dir": str(tfds_dir),
                              "captions": "paraphrases"}  # the preset's caption choice, as --tiny sets it
    assert json.loads((tmp_path / "run" / "embeddings-train" / "manifest.json").read_text())["paths"][0].endswith(".png")
    assert main(["evaluate", "--model", str(tmp_path / "run" / "model"), *source, "--split", "test",
                 "--out", str(tmp_path / "eval"), "--max-length", "8"]) == 0
    table = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert {"Bleu_4", "METEOR", "CIDEr", "colour acc", "scene exact"} <= set(table["model"])  # scenes came through TFDS
    assert len(json.loads((tmp_path / "eval" / "predictions.json").read_text())) == 4
    assert "CIDEr" in capsys.readouterr().out


class PhotoNotes(tfds.core.GeneratorBasedBuilder):
    """A real TFDS dataset whose features are not named image/captions."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "photo": tfds.features.Image(shape=(16, 16, 3)),
            "notes": tfds.features.Sequence({"text": tfds.features.Text()}),
        }))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        rng = np.random.default_rng(0)
        for index in range(3):
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            yield index, {"photo": pixels, "notes": [{"text": f"note {index}"}, {"text": " "}]}


def test_feature_names_errors_and_preparation(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"tfds:photo_notes is not prepared .*tfds build photo_notes --data_dir"):
        read_tfds("photo_notes", split="train", data_dir=tmp_path)
    PhotoNotes(data_dir=str(tmp_path)).download_and_prepare()
    with pytest.raises(ValueError, match=r"tfds:photo_notes has no image feature 'image' or video feature 'video'; "
                                         r"its features are \['notes', 'notes/text', 'photo'\]: map them with data.features"):
        read_tfds("photo_notes", split="train", data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"tfds:photo_notes has no captions feature 'captions'"):
        read_tfds("photo_notes", split="train", data_dir=tmp_path, features={"image": "photo"})
    source = {"format": "tfds", "name": "photo_notes", "data_dir": str(tmp_path), "features": {"image": "photo", "captions": "notes/text"}}
    records = read_split(source, "train")
    assert sorted(record.captions for record in records) == [["note 0"], ["note 1"], ["note 2"]]  # blank notes dropped
    assert read_split(source, "test") == []
    with pytest.raises(ValueError, match=r"tfds:photo_notes has no scene feature, and canonical captions are made from"):
        read_split({**source, "captions": "canonical"}, "train")
    with pytest.raises(ValueError, match="no such TFDS dataset"):
        read_tfds("no_such_dataset_here", data_dir=tmp_path)


def test_coco_captions_table_matches_the_tfds_builder():
    assert feature_roles("coco_captions", tfds.builder("coco_captions")) == {"image": "image", "captions": "captions/text"}


def test_data_source_arguments():
    assert data_source("tfds:coco_captions", data_dir="/data") == {"format": "tfds", "name": "coco_captions", "data_dir": "/data"}
    assert data_source("captions.csv", images_dir="media") == {"format": "folder_csv", "path": "captions.csv", "images_dir": "media"}
    with pytest.raises(ValueError, match="--data-dir is the TFDS data folder"):
        data_source("captions.csv", data_dir="/data")
    with pytest.raises(ValueError, match="--images-dir is for annotation files"):
        data_source("tfds:coco_captions", images_dir="media")
    with pytest.raises(ValueError, match=r"a tfds data source takes \['name', 'data_dir', 'media_dir', 'features', 'captions'\]"):
        read_split({"format": "tfds", "name": "x", "path": "y"}, "train")
    with pytest.raises(ValueError, match=r"data.captions='canonical' .* a 'flickr' annotation file does not"):
        read_split({"format": "flickr", "path": "captions.txt", "captions": "canonical"}, "train")
    with pytest.raises(ValueError, match="unknown data format 'parquet'"):
        read_split({"format": "parquet", "path": "x"}, "train")
