"""Pick the frames of a video worth captioning, with the time span each one stands for.

Three strategies (`FrameSampling.mode`):
  * "uniform": N frames at the centres of N equal time slices (default, N = 8);
  * "interval": one frame every S seconds;
  * "scenes": one frame per shot, shots found by comparing HSV colour histograms of
    small copies of frames read a few times per second.

Decoding is kept to what is needed: frames are skipped with `grab()` (no colour
conversion or copy) and only sampled frames are `retrieve()`d. Uniform sampling
seeks over long gaps, but only once a seek has landed on the timestamp it should
have; otherwise it reads through. Times come from `CAP_PROP_POS_MSEC`, so variable
frame rates are handled; container frame counts are only a hint, because they can
be 0 or wrong (e.g. counted in time-base ticks), and the real length is measured
while reading when they disagree.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from image_captioning.inputs import cap_short_side
from image_captioning.results import ItemError

SAMPLING_MODES = ("uniform", "interval", "scenes")
_REENCODE_FIX = "re-encode it, e.g. `ffmpeg -i INPUT -c:v libx264 -pix_fmt yuv420p OUTPUT.mp4`"


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
    max_short_side: int | None = 1024
    seek_min_gap: float = 30.0

    def __post_init__(self):
        if self.mode not in SAMPLING_MODES:
            raise ValueError(f"mode must be one of {SAMPLING_MODES}, got {self.mode!r}")
        if self.num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {self.num_frames}")
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


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video; `frame_count` and `fps` may be 0 or wrong.

    Example:
        >>> VideoInfo(fps=10.0, frame_count=795, width=768, height=576).reported_duration
        79.5
    """

    fps: float
    frame_count: int
    width: int
    height: int

    @property
    def reported_duration(self) -> float | None:
        if self.fps > 0 and self.frame_count > 0:
            return self.frame_count / self.fps
        return None


class _Cursor:
    """A cv2.VideoCapture read forward one frame at a time, with sane timestamps."""

    def __init__(self, path: Path, fps: float, stop_event: threading.Event | None):
        self.capture = cv2.VideoCapture(str(path))
        self.step = 1.0 / fps if fps > 0 else 0.04
        self.stop_event = stop_event
        self.index = -1
        self.timestamp: float | None = None

    def grab(self) -> bool:
        if self.stop_event is not None and self.stop_event.is_set():
            return False
        if not self.capture.grab():
            return False
        self.index += 1
        self.timestamp = self._next_timestamp()
        return True

    def _next_timestamp(self) -> float:
        seconds = self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        valid = math.isfinite(seconds) and seconds >= 0
        if self.timestamp is None:
            return seconds if valid else self.index * self.step
        # Some backends repeat or reset timestamps; never let time run backwards.
        return seconds if valid and seconds > self.timestamp else self.timestamp + self.step

    def retrieve(self) -> np.ndarray | None:
        ok, bgr = self.capture.retrieve()
        if not ok or bgr is None or bgr.size == 0:
            return None
        if bgr.ndim == 2:
            return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def seek(self, frame_index: int) -> None:
        self.capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
        self.index = frame_index - 1
        self.timestamp = None

    def close(self) -> None:
        self.capture.release()


class VideoReader:
    """Open a video and sample frames from it.

    Args:
        path: the video file.
        name: how to name the video in error messages (defaults to the path).
        stop_event: when set, reading stops early (used to cancel a pipeline).

    Raises:
        ItemError: the file is missing or empty, or OpenCV cannot open it.

    Example:
        >>> with VideoReader("clip.mp4") as reader:
        ...     frames = list(reader.sample(FrameSampling(num_frames=4)))
        >>> reader.duration  # measured or reported, seconds
        79.5
    """

    def __init__(self, path, name: str | None = None, stop_event: threading.Event | None = None):
        self.path = Path(path)
        self.name = name or str(path)
        self.stop_event = stop_event
        self.warnings: list[str] = []
        self.frames_decoded = 0  # frames in the video; known once it has been read to the end
        self._measured_duration: float | None = None
        self._cursor: _Cursor | None = None
        self._check_file()
        capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened():
                raise ItemError(
                    self.name,
                    "OpenCV cannot open the video (corrupt or truncated file, or unsupported container/codec)",
                    _REENCODE_FIX,
                )
            self.info = VideoInfo(
                fps=_finite(capture.get(cv2.CAP_PROP_FPS)),
                frame_count=int(max(0.0, _finite(capture.get(cv2.CAP_PROP_FRAME_COUNT)))),
                width=int(_finite(capture.get(cv2.CAP_PROP_FRAME_WIDTH))),
                height=int(_finite(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))),
            )
        finally:
            capture.release()

    def _check_file(self) -> None:
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            raise ItemError(self.name, "file not found", "check the path") from None
        except OSError as exc:
            raise ItemError(self.name, f"cannot access the file ({exc.strerror})", "check its permissions") from None
        if size == 0:
            raise ItemError(self.name, "file is empty (0 bytes)", "re-download or re-export the video")

    @property
    def duration(self) -> float:
        """Measured duration when the video was read to the end, else the container's; 0.0 if unknown."""
        if self._measured_duration is not None:
            return self._measured_duration
        return self.info.reported_duration or 0.0

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def sample(self, sampling: FrameSampling = FrameSampling()) -> Iterator[SampledFrame]:
        """Yield the sampled frames in time order.

        Raises:
            ItemError: no frame of the video could be decoded.
        """
        if sampling.mode == "uniform":
            frames = self._uniform(sampling)
        elif sampling.mode == "interval":
            frames = self._interval(sampling)
        else:
            frames = self._scenes(sampling)
        for frame in frames:
            frame.image = cap_short_side(frame.image, sampling.max_short_side)
            yield frame

    # -- reading helpers ----------------------------------------------------------------

    def _open(self) -> _Cursor:
        self.close()
        self._cursor = _Cursor(self.path, self.info.fps, self.stop_event)
        return self._cursor

    def _stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def _no_frames_error(self) -> ItemError:
        return ItemError(
            self.name,
            "the video has no decodable frames (corrupt or truncated file, or unsupported codec)",
            _REENCODE_FIX,
        )

    def _read_to_end(self, cursor: _Cursor) -> None:
        while cursor.grab():
            pass
        self._finish(cursor)

    def _finish(self, cursor: _Cursor) -> None:
        """Record what reading to the end revealed: the true length and whether the file looks cut short."""
        if self._stopped():
            return
        self.frames_decoded = max(self.frames_decoded, cursor.index + 1)
        if cursor.timestamp is None:
            return
        self._measured_duration = cursor.timestamp + cursor.step
        reported = self.info.reported_duration
        if reported and self._measured_duration < 0.9 * reported:
            message = (
                f"decoded {self._measured_duration:.2f} s of the {reported:.2f} s the container reports; "
                "the file may be truncated"
            )
            if message not in self.warnings:
                self.warnings.append(message)

    def _retrieve_at_or_after(self, cursor: _Cursor, time: float, tolerance: float) -> np.ndarray | None:
        """Advance to the first frame at or after `time` that decodes; None at the end of the video."""
        while cursor.timestamp is None or cursor.timestamp < time - tolerance:
            if not cursor.grab():
                return None
        while True:
            image = cursor.retrieve()
            if image is not None:
                return image
            if not cursor.grab():
                return None

    def _seek_to(self, cursor: _Cursor, time: float) -> bool:
        """Seek to the frame at `time`; True only if the landed frame has the timestamp expected."""
        fps = self.info.fps
        target = int(round(time * fps))
        cursor.seek(target)
        if not cursor.grab():
            return False
        return abs(cursor.timestamp - target / fps) <= 0.5 / fps

    # -- strategies ---------------------------------------------------------------------

    def _uniform(self, sampling: FrameSampling) -> list[SampledFrame]:
        duration = self.info.reported_duration
        if duration is None:
            self._read_to_end(self._open())
            duration = self._measured_duration
            if duration is None:
                raise self._no_frames_error()
        frames, ended_early = self._uniform_pass(sampling, duration, allow_seek=True)
        if self._stopped():
            return frames
        if ended_early and self._measured_duration is None:  # a seek ran past the real end
            self._read_to_end(self._open())
        measured = self._measured_duration
        step = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
        if measured is not None and abs(measured - duration) > max(1.5 * step, 0.02 * duration):
            # The container's length was wrong: redo the slices over the measured length.
            duration = measured
            frames, _ = self._uniform_pass(sampling, duration, allow_seek=False)
        if not frames:
            raise self._no_frames_error()
        # Slices whose centre falls after the last frame's timestamp are still showing that frame.
        frames[-1].end = duration
        return frames

    def _uniform_pass(self, sampling: FrameSampling, duration: float, allow_seek: bool):
        """Take the first frame at or after the centre of each of N slices of `duration`.

        Returns (frames, ended_early): ended_early is True when the video ended before the last centre.
        """
        n = sampling.num_frames
        cursor = self._open()
        fps = self.info.fps
        tolerance = 0.5 / fps if fps > 0 else 0.0
        can_seek = allow_seek and fps > 0 and self.info.frame_count > 0
        seeked = False
        frames: list[SampledFrame] = []
        for i in range(n):
            start, end = i * duration / n, (i + 1) * duration / n
            centre = (start + end) / 2
            position = cursor.timestamp if cursor.timestamp is not None else 0.0
            if can_seek and centre - position > sampling.seek_min_gap:
                if self._seek_to(cursor, centre):
                    seeked = True
                else:
                    # Inaccurate seeking: start again from the top and read through.
                    can_seek = seeked = False
                    cursor = self._open()
                    frames = []
                    for j in range(i):
                        s, e = j * duration / n, (j + 1) * duration / n
                        if not self._take(cursor, frames, s, e, (s + e) / 2, tolerance):
                            self._finish(cursor)
                            return frames, True
            if not self._take(cursor, frames, start, end, centre, tolerance):
                if not seeked:
                    self._finish(cursor)
                return frames, True
        if not seeked:
            self._read_to_end(cursor)
        return frames, False

    def _take(self, cursor: _Cursor, frames: list[SampledFrame], start, end, centre, tolerance) -> bool:
        image = self._retrieve_at_or_after(cursor, centre, tolerance)
        if image is None:
            return False
        if frames and frames[-1].frame_index == cursor.index:
            frames[-1].end = end  # video has fewer frames than slices: one frame covers both
        else:
            frames.append(SampledFrame(image, cursor.timestamp, start, end, cursor.index))
        return True

    def _interval(self, sampling: FrameSampling) -> Iterator[SampledFrame]:
        cursor = self._open()
        tolerance = 0.5 / self.info.fps if self.info.fps > 0 else 0.0
        pending: SampledFrame | None = None
        k = 0
        while True:
            target = k * sampling.interval
            image = self._retrieve_at_or_after(cursor, target, tolerance)
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
        self._finish(cursor)
        if pending is None:
            if not self._stopped():
                raise self._no_frames_error()
            return
        pending.end = max(self.duration, pending.timestamp)
        yield pending

    def _scenes(self, sampling: FrameSampling) -> Iterator[SampledFrame]:
        cursor = self._open()
        period = 1.0 / sampling.scene_analysis_fps
        next_time = 0.0
        previous_histogram = None
        shot_start = 0.0
        shot = _ShotCandidates(sampling.max_short_side)
        while cursor.grab():
            if cursor.timestamp < next_time:
                continue
            next_time = cursor.timestamp + period
            image = cursor.retrieve()
            if image is None:
                continue
            histogram = _hsv_histogram(image)
            if previous_histogram is not None:
                distance = cv2.compareHist(previous_histogram, histogram, cv2.HISTCMP_BHATTACHARYYA)
                if distance > sampling.scene_threshold and cursor.timestamp - shot_start >= sampling.min_scene_duration:
                    yield shot.pick(shot_start, cursor.timestamp)
                    shot = _ShotCandidates(sampling.max_short_side)
                    shot_start = cursor.timestamp
            previous_histogram = histogram
            shot.add(image, cursor.timestamp, cursor.index)
        self._finish(cursor)
        if shot.empty:
            if previous_histogram is None and not self._stopped():
                raise self._no_frames_error()
            return
        yield shot.pick(shot_start, max(self.duration, shot_start))


class _ShotCandidates:
    """Evenly spread frames of the current shot, kept to at most 2 * `keep` in memory.

    Every analysed frame is offered; when the list is full every other one is dropped
    and only every second later frame is kept, so the survivors stay evenly spread over
    the shot and the one nearest its middle can be captioned once the shot ends.
    """

    keep = 4

    def __init__(self, max_short_side: int | None):
        self.max_short_side = max_short_side
        self.frames: list[tuple[float, int, np.ndarray]] = []
        self.every = 1
        self.offered = 0

    @property
    def empty(self) -> bool:
        return not self.frames

    def add(self, image: np.ndarray, timestamp: float, index: int) -> None:
        if self.offered % self.every == 0:
            self.frames.append((timestamp, index, cap_short_side(image, self.max_short_side)))
            if len(self.frames) >= 2 * self.keep:
                self.frames = self.frames[::2]
                self.every *= 2
        self.offered += 1

    def pick(self, start: float, end: float) -> SampledFrame:
        middle = (start + end) / 2
        timestamp, index, image = min(self.frames, key=lambda f: abs(f[0] - middle))
        return SampledFrame(image, timestamp, start, end, index)


def _hsv_histogram(image_rgb: np.ndarray) -> np.ndarray:
    height, width = image_rgb.shape[:2]
    scale = 64.0 / max(height, width)
    small = cv2.resize(image_rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    cv2.normalize(histogram, histogram, 1.0, 0.0, cv2.NORM_L1)
    return histogram


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


def sample_video(
    path, sampling: FrameSampling = FrameSampling(), name: str | None = None
) -> tuple[list[SampledFrame], VideoReader]:
    """Read all sampled frames of a video at once (convenience for small jobs and tests).

    Example:
        >>> frames, reader = sample_video("clip.mp4", FrameSampling(mode="scenes"))
        >>> [(f.start, f.end) for f in frames]
        [(0.0, 79.5)]
    """
    with VideoReader(path, name=name) as reader:
        frames = list(reader.sample(sampling))
    return frames, reader
