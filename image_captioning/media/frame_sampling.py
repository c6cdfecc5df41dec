"""Pick the frames of a video worth captioning, with the time span each one stands for.

Three algorithms (`FrameSampling.mode`), each a function of an open `VideoReader`:
  * "uniform": N frames at the centres of N equal time slices (default, N = 8);
  * "interval": one frame every S seconds;
  * "scenes": one frame per shot (see `shot_detection`), or `frames_per_shot` evenly spread
    frames sharing the shot's span, for a temporal model that captions each shot from its frames.

Uniform sampling seeks over long gaps, but only once a seek has landed on the timestamp it
should have; otherwise it reads through.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from image_captioning.media.shot_detection import ShotCandidates, hsv_histogram

SAMPLING_MODES = ("uniform", "interval", "scenes")


@dataclass(frozen=True)
class FrameSampling:
    """How frames are chosen from a video.

    Args:
        mode: "uniform", "interval" or "scenes".
        num_frames: frames taken in "uniform" mode (fewer when the video has fewer frames).
        interval: seconds between frames in "interval" mode.
        scene_threshold: Bhattacharyya distance between the HSV histograms of two
            consecutive analysed frames above which a new shot starts ("scenes" mode).
            Within one shot distances are typically below 0.25.
        scene_analysis_fps: how many low-resolution frames per second are analysed for shot changes.
        min_scene_duration: shots shorter than this many seconds are merged into the previous one.
        frames_per_shot: frames taken per shot in "scenes" mode, spread evenly over it (fewer when
            the shot has fewer analysed frames); all of them stand for the whole shot's span.
        max_short_side: sampled frames are shrunk so their short side is at most this (None: full size).
        seek_min_gap: "uniform" mode seeks (instead of reading through) over gaps of more
            than this many seconds, when seeking has been verified to be accurate.

    Example:
        >>> FrameSampling(mode="interval", interval=5.0).interval
        5.0
    """

    mode: str = "uniform"
    num_frames: int = 8
    interval: float = 2.0
    scene_threshold: float = 0.4
    scene_analysis_fps: float = 4.0
    min_scene_duration: float = 1.0
    frames_per_shot: int = 1
    max_short_side: int | None = 1024
    seek_min_gap: float = 30.0

    def __post_init__(self):
        if self.mode not in SAMPLING_MODES:
            raise ValueError(f"mode must be one of {SAMPLING_MODES}, got {self.mode!r}")
        if self.num_frames < 1 or self.frames_per_shot < 1:
            raise ValueError(f"num_frames and frames_per_shot must be >= 1, got {self.num_frames}, {self.frames_per_shot}")
        if self.interval <= 0 or self.scene_analysis_fps <= 0:
            raise ValueError("interval and scene_analysis_fps must be > 0")


@dataclass
class SampledFrame:
    """A decoded frame and the part of the video it represents.

    Args:
        image: uint8 RGB (H, W, 3).
        timestamp: time of the frame, seconds.
        start: start of the represented span, seconds.
        end: end of the represented span, seconds.
        frame_index: 0-based index of the frame in decoding order.

    Example:
        >>> f = SampledFrame(np.zeros((4, 4, 3), np.uint8), 1.0, 0.5, 1.5, 10)
        >>> f.end - f.start
        1.0
    """

    image: np.ndarray
    timestamp: float
    start: float
    end: float
    frame_index: int

    @classmethod
    def still(cls, image: np.ndarray) -> SampledFrame:
        """A still image as a one-frame sample at time zero."""
        return cls(image, 0.0, 0.0, 0.0, 0)


def uniform_frames(reader, sampling: FrameSampling) -> list[SampledFrame]:
    duration = reader.info.reported_duration
    if duration is None:
        reader.read_to_end(reader.open_cursor())
        duration = reader.measured_duration
        if duration is None:
            raise reader.no_frames_error()
    frames, ended_early = _uniform_pass(reader, sampling, duration, allow_seek=True)
    if reader.stopped():
        return frames
    if ended_early and reader.measured_duration is None:  # a seek ran past the real end
        reader.read_to_end(reader.open_cursor())
    measured = reader.measured_duration
    step = 1.0 / reader.info.fps if reader.info.fps > 0 else 0.04
    if measured is not None and abs(measured - duration) > max(1.5 * step, 0.02 * duration):
        # The container's length was wrong: redo the slices over the measured length.
        duration = measured
        frames, _ = _uniform_pass(reader, sampling, duration, allow_seek=False)
    if not frames:
        raise reader.no_frames_error()
    # Slices whose centre falls after the last frame's timestamp are still showing that frame.
    frames[-1].end = duration
    return frames

def _uniform_pass(reader, sampling: FrameSampling, duration: float, allow_seek: bool):
    """Take the first frame at or after the centre of each of N slices of `duration`.

    Returns (frames, ended_early): ended_early is True when the video ended before the last centre.
    """
    n = sampling.num_frames
    cursor = reader.open_cursor()
    fps = reader.info.fps
    tolerance = 0.5 / fps if fps > 0 else 0.0
    can_seek = allow_seek and fps > 0 and reader.info.frame_count > 0
    seeked = False
    frames: list[SampledFrame] = []
    for i in range(n):
        start, end = i * duration / n, (i + 1) * duration / n
        centre = (start + end) / 2
        position = cursor.timestamp if cursor.timestamp is not None else 0.0
        if can_seek and centre - position > sampling.seek_min_gap:
            if reader.seek_to(cursor, centre):
                seeked = True
            else:
                # Inaccurate seeking: start again from the top and read through.
                can_seek = seeked = False
                cursor = reader.open_cursor()
                frames = []
                for j in range(i):
                    s, e = j * duration / n, (j + 1) * duration / n
                    if not _take(reader, cursor, frames, s, e, (s + e) / 2, tolerance):
                        reader.finish(cursor)
                        return frames, True
        if not _take(reader, cursor, frames, start, end, centre, tolerance):
            if not seeked:
                reader.finish(cursor)
            return frames, True
    if not seeked:
        reader.read_to_end(cursor)
    return frames, False

def _take(reader, cursor, frames: list[SampledFrame], start, end, centre, tolerance) -> bool:
    image = reader.retrieve_at_or_after(cursor, centre, tolerance)
    if image is None:
        return False
    if frames and frames[-1].frame_index == cursor.index:
        frames[-1].end = end  # video has fewer frames than slices: one frame covers both
    else:
        frames.append(SampledFrame(image, cursor.timestamp, start, end, cursor.index))
    return True

def interval_frames(reader, sampling: FrameSampling) -> Iterator[SampledFrame]:
    cursor = reader.open_cursor()
    tolerance = 0.5 / reader.info.fps if reader.info.fps > 0 else 0.0
    pending: SampledFrame | None = None
    k = 0
    while True:
        target = k * sampling.interval
        image = reader.retrieve_at_or_after(cursor, target, tolerance)
        if image is None:
            break
        if pending is not None and pending.frame_index == cursor.index:
            k += 1  # frames are sparser than the interval here: skip this target
            continue
        if pending is not None:
            pending.end = target
            yield pending
        pending = SampledFrame(image, cursor.timestamp, target, target, cursor.index)
        k = max(k + 1, int(cursor.timestamp // sampling.interval) + 1)
    reader.finish(cursor)
    if pending is None:
        if not reader.stopped():
            raise reader.no_frames_error()
        return
    pending.end = max(reader.duration, pending.timestamp)
    yield pending

def scene_frames(reader, sampling: FrameSampling) -> Iterator[SampledFrame]:
    cursor = reader.open_cursor()
    period = 1.0 / sampling.scene_analysis_fps
    next_time = 0.0
    previous_histogram = None
    shot_start = 0.0
    keep = max(4, sampling.frames_per_shot)
    shot = ShotCandidates(sampling.max_short_side, keep)
    while cursor.grab():
        if cursor.timestamp < next_time:
            continue
        next_time = cursor.timestamp + period
        image = cursor.retrieve()
        if image is None:
            continue
        histogram = hsv_histogram(image)
        if previous_histogram is not None:
            distance = cv2.compareHist(previous_histogram, histogram, cv2.HISTCMP_BHATTACHARYYA)
            if distance > sampling.scene_threshold and cursor.timestamp - shot_start >= sampling.min_scene_duration:
                yield from _shot_frames(shot, shot_start, cursor.timestamp, sampling)
                shot = ShotCandidates(sampling.max_short_side, keep)
                shot_start = cursor.timestamp
        previous_histogram = histogram
        shot.add(image, cursor.timestamp, cursor.index)
    reader.finish(cursor)
    if shot.empty:
        if previous_histogram is None and not reader.stopped():
            raise reader.no_frames_error()
        return
    yield from _shot_frames(shot, shot_start, max(reader.duration, shot_start), sampling)


def _shot_frames(shot: ShotCandidates, start: float, end: float, sampling: FrameSampling) -> Iterator[SampledFrame]:
    if sampling.frames_per_shot == 1:
        yield SampledFrame(*shot.pick(start, end))
        return
    for position in evenly_spaced(len(shot.frames), sampling.frames_per_shot):
        timestamp, index, image = shot.frames[position]
        yield SampledFrame(image, timestamp, start, end, index)


def evenly_spaced(count: int, keep: int) -> np.ndarray:
    """Indices of `keep` of `count` items in order, at the centres of `keep` equal slices (all of them when count <= keep).

    Example:
        >>> evenly_spaced(16, 4).tolist()
        [2, 6, 10, 14]
    """
    if count <= keep:
        return np.arange(count)
    return ((np.arange(keep) + 0.5) * count / keep).astype(int)


SAMPLERS = {"uniform": uniform_frames, "interval": interval_frames, "scenes": scene_frames}
