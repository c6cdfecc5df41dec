"""Media in: input expansion, image decoding, the video reader, frame sampling, CLIP preprocessing."""

from image_captioning.media.clip_preprocessing import clip_preprocess_numpy, clip_preprocess_tf
from image_captioning.media.extensions import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, is_video_path, media_kind_of
from image_captioning.media.frame_sampling import FrameSampling, SampledFrame
from image_captioning.media.images import load_image
from image_captioning.media.sources import WorkItem, expand_inputs
from image_captioning.media.video_reader import VideoReader, read_middle_frame, sample_video

__all__ = [
    "FrameSampling",
    "IMAGE_EXTENSIONS",
    "SampledFrame",
    "VIDEO_EXTENSIONS",
    "VideoReader",
    "clip_preprocess_numpy",
    "clip_preprocess_tf",
    "WorkItem",
    "expand_inputs",
    "is_video_path",
    "load_image",
    "media_kind_of",
    "read_middle_frame",
    "sample_video",
]
