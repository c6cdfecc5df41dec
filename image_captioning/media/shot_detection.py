"""Shot boundaries from HSV colour histograms of small copies of frames, and the frames kept per shot."""

from __future__ import annotations

import cv2
import numpy as np

from image_captioning.media.images import cap_short_side


class ShotCandidates:
    """Evenly spread frames of the current shot, kept to at most 2 * `keep` in memory.

    Every analysed frame is offered; when the list is full every other one is dropped
    and only every second later frame is kept, so the survivors stay evenly spread over
    the shot and the one nearest its middle (or `keep` of them, for a temporal model) can
    be captioned once the shot ends.
    """

    def __init__(self, max_short_side: int | None, keep: int = 4):
        self.max_short_side = max_short_side
        self.keep = keep
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

    def pick(self, start: float, end: float) -> tuple[np.ndarray, float, float, float, int]:
        """The kept frame nearest the shot's middle, as `SampledFrame` fields (image, timestamp, start, end, index)."""
        middle = (start + end) / 2
        timestamp, index, image = min(self.frames, key=lambda f: abs(f[0] - middle))
        return image, timestamp, start, end, index


def hsv_histogram(image_rgb: np.ndarray) -> np.ndarray:
    height, width = image_rgb.shape[:2]
    scale = 64.0 / max(height, width)
    small = cv2.resize(image_rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    cv2.normalize(histogram, histogram, 1.0, 0.0, cv2.NORM_L1)
    return histogram
