"""Captioned frames back into results: an image is one frame; a video is its frames regrouped in time order."""

from __future__ import annotations

import numpy as np

from image_captioning.beam.records import FrameKey
from image_captioning.pipeline.frames import mean_frame_embedding
from image_captioning.results import Caption, ImageResult, VideoResult

FRAMES, FACTS = "frames", "facts"


def best_caption(captions) -> Caption:
    """The first (best) candidate, or an empty caption when the generator gave none (as `predict`)."""
    return captions[0] if captions else Caption("", float("-inf"), [])


def image_result(keyed_prediction) -> ImageResult:
    key, prediction = keyed_prediction
    return ImageResult(key.source, list(prediction.inference.captions))


def video_frame(keyed_prediction):
    """(FrameKey, PredictionResult) -> (source, (slot, VideoSegment, embedding)), keyed for the regroup."""
    key, prediction = keyed_prediction
    inference = prediction.inference
    return key.source, (key.slot, key.segment(best_caption(inference.captions)), inference.embedding)


def assemble_video(grouped) -> tuple[VideoResult, np.ndarray]:
    """(source, {"frames": [...], "facts": [VideoFacts]}) -> the video without its whole-video caption, and the
    float32 mean of its frame embeddings that caption comes from (as `predict` computes it).

    Raises:
        ValueError: frames went missing between decoding and here; a result short of frames would be wrong.
    """
    source, parts = grouped
    (facts,) = parts[FACTS]
    frames = sorted(parts[FRAMES], key=lambda frame: frame[0])
    if [slot for slot, _, _ in frames] != list(range(facts.frames)):
        raise ValueError(f"{source}: {len(frames)} of its {facts.frames} sampled frames reached the regroup")
    result = VideoResult(source, [segment for _, segment, _ in frames], None, facts.fps, facts.duration,
                         warnings=list(facts.warnings))
    mean = mean_frame_embedding([embedding for _, _, embedding in frames]).astype(np.float32)
    return result, mean


def with_video_caption(keyed_prediction) -> VideoResult:
    result, prediction = keyed_prediction
    result.caption = best_caption(prediction.inference.captions)
    return result


def is_video_frame(keyed, _partitions=2) -> int:
    """`beam.Partition` function: 0 for image frames, 1 for video frames."""
    key: FrameKey = keyed[0]
    return int(key.kind == "video")
