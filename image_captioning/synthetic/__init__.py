"""Synthetic scenes of coloured shapes with compositional captions, for training and tests.

`generate_scenes(out_dir, num_images, num_videos, seed, image_size)` writes a folder + CSV
dataset; `python -m image_captioning.synthetic --out DIR --images N --videos M --seed S` does the
same from the shell. The samplers, renderers and captioners are exported for in-memory use.
"""

from image_captioning.synthetic.captions import image_captions, video_captions
from image_captioning.synthetic.drawing import render_image_scene, render_video_frames
from image_captioning.synthetic.generator import SyntheticDataset, assign_splits, generate_scenes
from image_captioning.synthetic.scenes import (
    Background,
    ImageScene,
    Shape,
    VideoScene,
    VideoShot,
    sample_image_scene,
    sample_video_scene,
)
from image_captioning.synthetic.video_files import VIDEO_CODECS, read_video_frames, write_video

__all__ = [
    "Background",
    "ImageScene",
    "Shape",
    "SyntheticDataset",
    "VIDEO_CODECS",
    "VideoScene",
    "VideoShot",
    "assign_splits",
    "generate_scenes",
    "image_captions",
    "read_video_frames",
    "render_image_scene",
    "render_video_frames",
    "sample_image_scene",
    "sample_video_scene",
    "video_captions",
    "write_video",
]
