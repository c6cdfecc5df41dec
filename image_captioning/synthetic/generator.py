"""Writes a synthetic captioning dataset: PNG images, videos, `captions.csv` and `scenes.json`.

Every item draws from its own generator seeded with (seed, kind, index), so an item does not
depend on how many others are generated, and the same seed gives byte-identical files.
"""

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
from PIL import Image

from image_captioning.synthetic.captions import image_captions, video_captions
from image_captioning.synthetic.drawing import render_image_scene, render_video_frames
from image_captioning.synthetic.scenes import sample_image_scene, sample_video_scene
from image_captioning.synthetic.video_files import VIDEO_CODECS, write_video

IMAGE_STREAM, VIDEO_STREAM, SPLIT_STREAM = 0, 1, 2
SPLIT_NAMES = ("train", "val", "test")
CAPTIONS_FILE = "captions.csv"
SCENES_FILE = "scenes.json"


@dataclasses.dataclass(frozen=True)
class SyntheticDataset:
    """Where `generate_scenes` wrote its output.

    Args:
        out_dir: the dataset folder.
        captions_csv: `file,caption,split` CSV, readable with `read_dataset(..., "folder_csv")`.
        scenes_json: one entry per file: split, captions and the scene that was drawn.
        num_images: number of images written.
        num_videos: number of videos written.
    """

    out_dir: Path
    captions_csv: Path
    scenes_json: Path
    num_images: int
    num_videos: int


def generate_scenes(out_dir, num_images, num_videos, seed=0, image_size=224, video_format="mp4", fps=10,
                    split_fractions=(0.8, 0.1, 0.1)):
    """Generates images and videos of coloured shapes with captions, split train/val/test.

    Args:
        out_dir: folder to write `images/`, `videos/`, `captions.csv` and `scenes.json` into.
        num_images: number of still images.
        num_videos: number of videos; about a third contain a cut between two shots.
        seed: same seed, same files.
        image_size: side of the square images and video frames, in pixels.
        video_format: "mp4" (MPEG-4 Part 2) or "avi" (Motion-JPEG).
        fps: video frame rate; videos last 2 to 4 s.
        split_fractions: train/val/test fractions, applied to images and videos separately.

    Example:
    ```python
    dataset = generate_scenes("data/shapes", num_images=200, num_videos=20, seed=0)
    records = read_dataset(dataset.captions_csv, "folder_csv", split="train")
    ```
    """
    out_dir = Path(out_dir)
    suffix = f".{video_format.lstrip('.')}"
    if suffix not in VIDEO_CODECS:
        raise ValueError(f"unknown video_format {video_format!r}; expected one of {[s[1:] for s in VIDEO_CODECS]}")
    image_splits, video_splits = split_assignment(seed, num_images, num_videos, split_fractions)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "videos").mkdir(parents=True, exist_ok=True)

    entries = []
    for index in range(num_images):
        pixels, entry = image_item(seed, index, image_size)
        entry = {"file": f"images/scene_{index:05d}.png", "kind": "image", "split": image_splits[index], **entry}
        Image.fromarray(pixels).save(out_dir / entry["file"], format="PNG")
        entries.append(entry)
    for index in range(num_videos):
        frames, entry = video_item(seed, index, image_size, fps)
        entry = {"file": f"videos/video_{index:05d}{suffix}", "kind": "video", "split": video_splits[index], **entry}
        write_video(frames, out_dir / entry["file"], fps)
        entries.append(entry)

    captions_csv, scenes_json = write_dataset_index(out_dir, entries, {"seed": seed, "image_size": image_size})
    return SyntheticDataset(out_dir, captions_csv, scenes_json, num_images, num_videos)


def image_item(seed, index, image_size):
    """(pixels (S, S, 3) uint8, entry) of image `index`; the entry holds kind, captions and scene."""
    rng = np.random.default_rng([seed, IMAGE_STREAM, index])
    scene = sample_image_scene(rng)
    entry = {"kind": "image", "captions": image_captions(scene, rng), "scene": dataclasses.asdict(scene)}
    return render_image_scene(scene, image_size), entry


def video_item(seed, index, image_size, fps):
    """(frames (T, S, S, 3) uint8, entry) of video `index`; the entry also holds num_frames and cut_frames."""
    rng = np.random.default_rng([seed, VIDEO_STREAM, index])
    video = sample_video_scene(rng, fps=fps)
    entry = {"kind": "video", "captions": video_captions(video, rng), "scene": dataclasses.asdict(video),
             "num_frames": video.num_frames, "cut_frames": list(video.cut_frames)}
    return render_video_frames(video, image_size), entry


def split_assignment(seed, num_images, num_videos, fractions=(0.8, 0.1, 0.1)):
    """(image splits, video splits): the split of every item, as `generate_scenes` assigns them."""
    split_rng = np.random.default_rng([seed, SPLIT_STREAM])
    return assign_splits(num_images, fractions, split_rng), assign_splits(num_videos, fractions, split_rng)


def write_dataset_index(out_dir, entries, header=None):
    """Writes `captions.csv` and, when `header` is given (a synthetic dataset), `scenes.json`; returns their paths.

    Each entry has "file" (relative to `out_dir`), "kind", "split", "captions" and, in a synthetic
    dataset, "scene". `captions.csv` is written last, through a temporary name, so its presence marks a
    complete folder.
    """
    out_dir = Path(out_dir)
    scenes_json = None
    if header is not None:
        scenes_json = out_dir / SCENES_FILE
        scenes_json.write_text(json.dumps({**header, "items": entries}, indent=1))
    partial = out_dir / f"{CAPTIONS_FILE}.partial"
    _write_captions_csv(partial, entries)
    captions_csv = out_dir / CAPTIONS_FILE
    partial.replace(captions_csv)
    return captions_csv, scenes_json


def assign_splits(count, fractions, rng):
    """A shuffled list of `count` split names; val and test get at least one item when count >= 3."""
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split_fractions must be 3 numbers (train, val, test) summing to 1, got {fractions}")
    sizes = [int(round(count * fraction)) for fraction in fractions[1:]]
    if count >= 3:
        sizes = [max(1, size) for size in sizes]
    names = ["val"] * sizes[0] + ["test"] * sizes[1]
    names = ["train"] * (count - len(names)) + names
    return [names[int(index)] for index in rng.permutation(count)]


def _write_captions_csv(path, entries):
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["file", "caption", "split"])
        for entry in entries:
            for caption in entry["captions"]:
                writer.writerow([entry["file"], caption, entry["split"]])
    return path
