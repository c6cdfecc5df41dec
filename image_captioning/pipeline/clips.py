"""Clips for a temporal model: frame embeddings in time order, as fixed-length sequences with a frame mask.

An image is a 1-frame clip. A video gives one clip per segment (the frames that share a sampled
span: a shot in "scenes" mode, a single frame otherwise) and one clip of all its frames for the
whole-video caption. A clip longer than the model's `clip_frames` keeps frames spread evenly over
it, the way training samples N uniform frames of a video; a shorter one is padded with zero
frames that its mask marks 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from image_captioning.media.frame_sampling import evenly_spaced


@dataclass(frozen=True)
class EncodedFrame:
    """One encoded video frame, kept until its video is complete.

    Args:
        slot: position of the frame within its video.
        embedding: (E,) encoder output.
        timestamp, start, end: the frame's time and the span it stands for, seconds.
        frame_index: index of the decoded frame.
    """

    slot: int
    embedding: np.ndarray
    timestamp: float
    start: float
    end: float
    frame_index: int


def pack_clip(frame_embeddings, clip_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(clip (clip_frames, E) float32, mask (clip_frames,) float32) of frame embeddings in time order.

    Example:
        >>> clip, mask = pack_clip(np.ones((3, 4)), clip_frames=5)
        >>> clip.shape, mask.tolist()
        ((5, 4), [1.0, 1.0, 1.0, 0.0, 0.0])
    """
    frames = np.asarray(frame_embeddings, np.float32)
    if frames.ndim != 2 or len(frames) == 0:
        raise ValueError(f"a clip needs (frames >= 1, E) embeddings, got shape {frames.shape}")
    frames = frames[evenly_spaced(len(frames), clip_frames)]
    clip = np.zeros((clip_frames, frames.shape[1]), np.float32)
    clip[: len(frames)] = frames
    mask = np.zeros(clip_frames, np.float32)
    mask[: len(frames)] = 1.0
    return clip, mask


def segment_groups(frames: list[EncodedFrame]) -> list[list[EncodedFrame]]:
    """Consecutive frames (in slot order) that stand for the same span form one segment."""
    groups: list[list[EncodedFrame]] = []
    for frame in sorted(frames, key=lambda f: f.slot):
        if groups and (groups[-1][0].start, groups[-1][0].end) == (frame.start, frame.end):
            groups[-1].append(frame)
        else:
            groups.append([frame])
    return groups


def stack_clips(clips: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(clips (B, clip_frames, E), frame_mask (B, clip_frames)) from `pack_clip` pairs."""
    return np.stack([clip for clip, _ in clips]), np.stack([mask for _, mask in clips])
