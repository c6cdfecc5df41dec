"""Synthetic scenes: determinism, captions that match the pixels, videos, splits."""

import json
import re

import numpy as np
import pytest
from PIL import Image

from image_captioning.datasets import read_dataset
from image_captioning.synthetic import generate_scenes, read_video_frames
from image_captioning.synthetic.__main__ import main as synthetic_cli
from image_captioning.synthetic.vocabulary import POSITION_CELLS, POSITION_PHRASES, SHAPE_COLOURS, SHAPE_KINDS

NUM_IMAGES, NUM_VIDEOS, SEED, SIZE = 40, 9, 7, 96

COLOUR = "|".join(SHAPE_COLOURS)
KIND = "|".join(SHAPE_KINDS)
WHERE = "|".join(POSITION_PHRASES.values())
POSITION_OF_PHRASE = {phrase: position for position, phrase in POSITION_PHRASES.items()}
PLACED_SHAPE = re.compile(rf"\b({COLOUR}) (?:{KIND}) ({WHERE})")
RELATED_SHAPES = re.compile(
    rf"\b({COLOUR}) (?:{KIND}) (to the left of|to the right of|above|below) an? (?:small |large )?({COLOUR}) (?:{KIND})"
)
MOTION = re.compile(rf"\b({COLOUR}) (?:{KIND}) moves from (left|right|top|bottom) to (left|right|top|bottom)")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return generate_scenes(tmp_path_factory.mktemp("synthetic"), NUM_IMAGES, NUM_VIDEOS, seed=SEED, image_size=SIZE)


@pytest.fixture(scope="module")
def items(dataset):
    return json.loads(dataset.scenes_json.read_text())["items"]


def shape_mask(image, colour):
    """Pixels nearest to `colour` among the shape colours and clearly saturated (not background)."""
    pixels = image.astype(np.int32)
    palette = np.array(list(SHAPE_COLOURS.values()))
    distances = np.linalg.norm(pixels[..., None, :] - palette, axis=-1)
    saturated = pixels.max(-1) - pixels.min(-1) > 90
    nearest = distances.argmin(-1) == list(SHAPE_COLOURS).index(colour)
    return saturated & nearest & (distances.min(-1) < 60)


def dominant_colour_by_cell(image):
    """{position: colour} for every grid cell that holds a shape, read from the pixels alone."""
    third = image.shape[0] // 3
    found = {}
    for position, (column, row) in POSITION_CELLS.items():
        cell = image[row * third:(row + 1) * third, column * third:(column + 1) * third]
        counts = {colour: int(shape_mask(cell, colour).sum()) for colour in SHAPE_COLOURS}
        colour, count = max(counts.items(), key=lambda item: item[1])
        if count > 0.02 * cell.shape[0] * cell.shape[1]:
            found[position] = colour
    return found


def test_same_seed_gives_byte_identical_files(dataset, tmp_path):
    again = generate_scenes(tmp_path / "again", NUM_IMAGES, NUM_VIDEOS, seed=SEED, image_size=SIZE)
    for name in ["captions.csv", "scenes.json", "images/scene_00000.png", f"images/scene_{NUM_IMAGES - 1:05d}.png",
                 "videos/video_00000.mp4"]:
        assert (again.out_dir / name).read_bytes() == (dataset.out_dir / name).read_bytes(), name
    other = generate_scenes(tmp_path / "other", 3, 0, seed=SEED + 1, image_size=SIZE)
    assert (other.out_dir / "images/scene_00000.png").read_bytes() != (dataset.out_dir / "images/scene_00000.png").read_bytes()


def test_images_are_rgb_uint8_of_the_requested_size(dataset):
    image = np.asarray(Image.open(dataset.out_dir / "images/scene_00000.png"))
    assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8


def test_captions_name_the_colours_seen_at_the_stated_positions(dataset, items):
    checked_relations = 0
    for item in (item for item in items if item["kind"] == "image"):
        image = np.asarray(Image.open(dataset.out_dir / item["file"]))
        seen = dominant_colour_by_cell(image)
        assert len(seen) == len(item["scene"]["shapes"]), (item["file"], seen)
        assert 3 <= len(item["captions"]) <= 5 and len(set(item["captions"])) == len(item["captions"])
        for caption in item["captions"]:
            assert set(re.findall(rf"\b({COLOUR})\b", caption)) <= set(seen.values()), (caption, seen)
            for colour, phrase in PLACED_SHAPE.findall(caption):
                assert seen.get(POSITION_OF_PHRASE[phrase]) == colour, (item["file"], caption, seen)
            for first, relation, second in RELATED_SHAPES.findall(caption):
                cell = {colour: POSITION_CELLS[position] for position, colour in seen.items()}
                (column_a, row_a), (column_b, row_b) = cell[first], cell[second]
                expected = {"to the left of": column_a < column_b, "to the right of": column_a > column_b,
                            "above": row_a < row_b, "below": row_a > row_b}
                assert expected[relation], (item["file"], caption, seen)
                checked_relations += 1
    assert checked_relations > 0


def centroid(frame, colour):
    ys, xs = np.nonzero(shape_mask(frame, colour))
    return xs.mean(), ys.mean()


def test_videos_read_back_with_frame_count_and_motion(dataset, items):
    videos = [item for item in items if item["kind"] == "video"]
    checked_motions = 0
    for item in videos:
        frames = read_video_frames(dataset.out_dir / item["file"])
        assert frames.shape == (item["num_frames"], SIZE, SIZE, 3)
        assert 20 <= item["num_frames"] <= 40
        for caption in item["captions"]:
            for colour, start, end in MOTION.findall(caption):
                (x0, y0), (x1, y1) = centroid(frames[0], colour), centroid(frames[-1], colour)
                step = SIZE / 3
                assert {"left": x0 < step, "right": x0 > 2 * step, "top": y0 < step, "bottom": y0 > 2 * step}[start]
                assert {"left": x1 < step, "right": x1 > 2 * step, "top": y1 < step, "bottom": y1 > 2 * step}[end]
                checked_motions += 1
    assert checked_motions > 0


def test_cut_videos_change_most_at_the_cut(dataset, items):
    cut_videos = [item for item in items if item["kind"] == "video" and item["cut_frames"]]
    assert cut_videos, "expected at least one video with a cut"
    for item in cut_videos:
        frames = read_video_frames(dataset.out_dir / item["file"]).astype(np.float32)
        change = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
        assert int(change.argmax()) + 1 == item["cut_frames"][0]
        assert any("cuts to" in caption or "then" in caption or "followed by" in caption for caption in item["captions"])


def test_splits_are_disjoint_and_readable_as_folder_csv(dataset):
    by_split = {split: read_dataset(dataset.captions_csv, "folder_csv", split=split) for split in ("train", "val", "test")}
    files = {split: {record.media_path for record in records} for split, records in by_split.items()}
    assert not (files["train"] & files["val"] or files["train"] & files["test"] or files["val"] & files["test"])
    assert sum(len(names) for names in files.values()) == NUM_IMAGES + NUM_VIDEOS
    assert all(files.values())
    kinds = {record.media_kind for records in by_split.values() for record in records}
    assert kinds == {"image", "video"}


def test_command_line(tmp_path, capsys):
    synthetic_cli(["--out", str(tmp_path), "--images", "3", "--videos", "1", "--seed", "1", "--image-size", "64",
                   "--video-format", "avi"])
    assert "wrote 3 images and 1 videos" in capsys.readouterr().out
    records = read_dataset(tmp_path / "captions.csv", "folder_csv")
    assert len(records) == 4 and records[-1].media_path.endswith(".avi")
    assert read_video_frames(records[-1].media_path).shape[1:] == (64, 64, 3)
