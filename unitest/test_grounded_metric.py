"""The grounded metric on hand-written caption/scene pairs, and on the generator's own captions."""

import dataclasses

import numpy as np
import pytest

from image_captioning.evaluation.caption_parser import Mention, parse_caption
from image_captioning.evaluation.grounded import find_scene_entries, grounded_metrics, score_caption
from image_captioning.synthetic import generate_scenes, image_captions, sample_image_scene


def shape(kind, colour, size, position):
    return {"kind": kind, "colour": colour, "size": size, "position": position, "jitter": [0.0, 0.0]}


def image(*shapes):
    return {"kind": "image", "scene": {"shapes": list(shapes), "background": {"kind": "plain", "colours": ["white"]}}}


def video(*shots):
    return {"kind": "video", "scene": {"shots": [{"shape": s, "end_position": end, "num_frames": 20} for s, end in shots]}}


TWO = image(shape("circle", "red", "large", "left"), shape("square", "blue", "small", "right"))


def test_parser_reads_every_attribute_and_skips_relations():
    assert parse_caption("there is a large red circle on the left and a small blue square on the right") == [
        Mention("circle", "red", "large", "left"), Mention("square", "blue", "small", "right")]
    # A relation is not an absolute position; a mention without size or colour leaves them None.
    assert parse_caption("a small blue square to the right of a circle") == [
        Mention("square", "blue", "small", None), Mention("circle", None, None, None)]
    assert parse_caption("a green star moving from the top to the bottom") == [
        Mention("star", "green", None, "top", ("top", "bottom"))]
    assert parse_caption("a pink cross moves to the left across a black background")[0].motion == ("right", "left")


def test_exact_caption_scores_everything_right():
    verdict = score_caption("a small blue square on the right and a large red circle on the left", TWO)
    assert verdict["scene_exact"] and verdict["objects_exact"]
    assert all(all(shape.values()) for shape in verdict["shapes"])


def test_swapped_colours_lose_colour_but_keep_kind_size_position():
    metrics = grounded_metrics({"a": "a large blue circle on the left and a small red square on the right"}, {"a": TWO})
    assert metrics["colour acc"] == 0.0 and metrics["colour+shape acc"] == 0.0
    assert metrics["shape acc"] == metrics["size acc"] == metrics["position acc"] == 1.0
    assert metrics["objects exact"] == 0.0 and metrics["scene exact"] == 0.0


def test_invented_object_breaks_exactness_but_not_attributes():
    caption = "a large red circle on the left and a small blue square on the right and a green star at the top"
    metrics = grounded_metrics({"a": caption}, {"a": TWO})
    assert metrics["colour+shape acc"] == 1.0 and metrics["position acc"] == 1.0
    assert metrics["objects exact"] == 0.0 and metrics["scene exact"] == 0.0


def test_missing_object_and_omitted_attributes_count_as_wrong():
    # Names only the circle, and without its size: the square is wrong on everything, the circle on size.
    metrics = grounded_metrics({"a": "a red circle on the left"}, {"a": TWO})
    assert metrics["colour acc"] == 0.5 and metrics["shape acc"] == 0.5 and metrics["position acc"] == 0.5
    assert metrics["size acc"] == 0.0
    assert metrics["objects exact"] == 0.0 and metrics["scene exact"] == 0.0


def test_video_motion_and_shot_count():
    entry = video((shape("star", "green", "small", "left"), "right"), (shape("circle", "red", "large", "top"), None))
    right = "a small green star moves from left to right, then a large red circle at the top"
    wrong_motion = "a small green star moves to the left, then a large red circle at the top"
    one_shot = "a small green star moves from left to right"
    metrics = grounded_metrics({"r": right, "w": wrong_motion, "o": one_shot}, {"r": entry, "w": entry, "o": entry})
    assert metrics["motion acc"] == pytest.approx(4 / 6)  # right: 2/2, wrong_motion: 1/2, one_shot: 1/2
    assert metrics["shots acc"] == pytest.approx(2 / 3)
    assert metrics["scene exact"] == pytest.approx(1 / 3)


def test_single_shot_motion_counts_only_videos_without_a_cut():
    single = video((shape("star", "green", "small", "left"), "right"))
    cut = video((shape("star", "green", "small", "left"), "right"), (shape("circle", "red", "large", "top"), None))
    predictions = {"s1": "a small green star moves from left to right", "s2": "a small green star moves from right to left",
                   "c": "a small green star moves from left to right, then a large red circle at the top"}
    metrics = grounded_metrics(predictions, {"s1": single, "s2": single, "c": cut})
    assert metrics["single-shot motion acc"] == 0.5
    assert metrics["motion acc"] == pytest.approx(3 / 4)
    assert "single-shot motion acc" not in grounded_metrics({"c": predictions["c"]}, {"c": cut})


def test_generator_full_captions_score_perfectly_and_short_ones_lose_size():
    rng = np.random.default_rng(5)
    for _ in range(50):
        scene = sample_image_scene(rng)
        entry = {"kind": "image", "scene": dataclasses.asdict(scene)}
        full = " and ".join(f"a {s.words} {dict(left='on the left', right='on the right', top='at the top', bottom='at the bottom', centre='in the centre')[s.position]}" for s in scene.shapes)
        assert score_caption(full, entry)["scene_exact"], full
        for caption in image_captions(scene, rng):
            # Every generator caption names exactly the true objects, whatever else it omits.
            assert score_caption(caption, entry)["objects_exact"], caption


def test_find_scene_entries_reads_the_generators_scenes_file(tmp_path):
    dataset = generate_scenes(tmp_path, num_images=4, num_videos=0, seed=3, image_size=32)
    paths = [tmp_path / f"images/scene_{index:05d}.png" for index in (2, 0)] + [tmp_path / "elsewhere.png"]
    entries = find_scene_entries(paths)
    assert sorted(entries) == [0, 1]
    assert entries[0]["file"] == "images/scene_00002.png"
    assert dataset.scenes_json.is_file()
