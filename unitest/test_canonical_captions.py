"""Canonical training captions: one per scene, every attribute stated, shapes in reading order."""

import dataclasses

import numpy as np

from image_captioning.datasets import read_dataset
from image_captioning.evaluation.grounded import find_scene_entries, score_caption
from image_captioning.synthetic import generate_scenes, sample_image_scene
from image_captioning.synthetic.canonical import canonical_caption, with_canonical_captions


def test_canonical_caption_states_everything_in_reading_order():
    entry = {"kind": "image", "scene": {"shapes": [
        {"kind": "circle", "colour": "red", "size": "large", "position": "bottom"},
        {"kind": "star", "colour": "orange", "size": "small", "position": "left"},
    ]}}
    assert canonical_caption(entry) == "a small orange star on the left and a large red circle at the bottom"
    video = {"kind": "video", "scene": {"shots": [
        {"shape": {"kind": "cross", "colour": "blue", "size": "large", "position": "top"}, "end_position": "bottom"},
        {"shape": {"kind": "square", "colour": "pink", "size": "small", "position": "centre"}, "end_position": None},
    ]}}
    assert canonical_caption(video) == "a large blue cross moves from top to bottom, then a small pink square in the centre"
    assert score_caption(canonical_caption(video), video)["scene_exact"]


def test_canonical_captions_score_exact_on_random_scenes():
    rng = np.random.default_rng(11)
    for _ in range(100):
        entry = {"kind": "image", "scene": dataclasses.asdict(sample_image_scene(rng))}
        assert score_caption(canonical_caption(entry), entry)["scene_exact"]


def test_with_canonical_captions_replaces_each_records_captions(tmp_path):
    dataset = generate_scenes(tmp_path, num_images=6, num_videos=0, seed=1, image_size=32)
    records = read_dataset(dataset.captions_csv, "folder_csv")
    canonical = with_canonical_captions(records, dataset.scenes_json)
    assert [r.media_path for r in canonical] == [r.media_path for r in records]
    assert all(len(r.captions) == 1 for r in canonical) and all(len(r.captions) >= 3 for r in records)
    entries = find_scene_entries([r.media_path for r in canonical])
    assert all(score_caption(r.captions[0], entries[i])["scene_exact"] for i, r in enumerate(canonical))
