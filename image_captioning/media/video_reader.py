"""Open a video with OpenCV and read it forward with sane timestamps.

Decoding is kept to what is needed: frames are skipped with `grab()` (no colour conversion
or copy) and only wanted frames are `retrieve()`d. Times come from `CAP_PROP_POS_MSEC`, so
variable frame rates are handled; container frame counts are only a hint, because they can be
0 or wrong (e.g. counted in time-base ticks), and the real length is measured while reading
when they disagree.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from image_captioning.media.files import check_media_file
from image_captioning.media.frame_sampling import SAMPLERS, FrameSampling, SampledFrame
from image_captioning.media.images import cap_short_side
from image_captioning.results import ItemError

_REENCODE_FIX = "re-encode it, e.g. `ffmpeg -i INPUT -c:v libx264 -pix_fmt yuv420p OUTPUT.mp4`"


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


class FrameCursor:
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
        self.measured_duration: float | None = None  # set once the video has been read to the end
        self._cursor: FrameCursor | None = None
        check_media_file(self.path, self.name, "video")
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

    @property
    def duration(self) -> float:
        """Measured duration when the video was read to the end, else the container's; 0.0 if unknown."""
        if self.measured_duration is not None:
            return self.measured_duration
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
        for frame in SAMPLERS[sampling.mode](self, sampling):
            frame.image = cap_short_side(frame.image, sampling.max_short_side)
            yield frame

    # Reading helpers, shared by the sampling algorithms in `frame_sampling`.

    def open_cursor(self) -> FrameCursor:
        self.close()
        self._cursor = FrameCursor(self.path, self.info.fps, self.stop_event)
        return self._cursor

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def no_frames_error(self) -> ItemError:
        return ItemError(
            self.name,
            "the video has no decodable frames (corrupt or truncated file, or unsupported codec)",
            _REENCODE_FIX,
        )

    def read_to_end(self, cursor: FrameCursor) -> None:
        while cursor.grab():
            pass
        self.finish(cursor)

    def finish(self, cursor: FrameCursor) -> None:
        """Record what reading to the end revealed: the true length and whether the file looks cut short."""
        if self.stopped():
            return
        self.frames_decoded = max(self.frames_decoded, cursor.index + 1)
        if cursor.timestamp is None:
            return
        self.measured_duration = cursor.timestamp + cursor.step
        reported = self.info.reported_duration
        if reported and self.measured_duration < 0.9 * reported:
            message = (
                f"decoded {self.measured_duration:.2f} s of the {reported:.2f} s the container reports; "
                "the file may be truncated"
            )
            if message not in self.warnings:
                self.warnings.append(message)

    def retrieve_at_or_after(self, cursor: FrameCursor, time: float, tolerance: float) -> np.ndarray | None:
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

    def seek_to(self, cursor: FrameCursor, time: float) -> bool:
        """Seek to the frame at `time`; True only if the landed frame has the timestamp expected."""
        fps = self.info.fps
        target = int(round(time * fps))
        cursor.seek(target)
        if not cursor.grab():
            return False
        return abs(cursor.timestamp - target / fps) <= 0.5 / fps


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


def read_middle_frame(path) -> np.ndarray | None:
    """The frame in the middle of a video as uint8 RGB (the first frame if seeking fails); None if unreadable.

    Example:
        >>> read_middle_frame("clip.mp4").shape
        (576, 768, 3)
    """
    capture = cv2.VideoCapture(str(path))
    try:
        count = _finite(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if count > 1:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(count // 2))
        ok, bgr = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = capture.read()
    finally:
        capture.release()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if ok and bgr is not None else None
