"""Writes and reads the synthetic videos with OpenCV.

The opencv-python-headless wheels ship FFmpeg with the MPEG-4 Part 2 encoder ("mp4v") but not
H.264 ("avc1" fails to open), so .mp4 files use "mp4v"; Motion-JPEG .avi is the alternative.
"""

from pathlib import Path

import cv2
import numpy as np

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}


def write_video(frames, path, fps):
    """Writes (num_frames, height, width, 3) uint8 RGB frames; the codec follows the suffix."""
    path = Path(path)
    if path.suffix not in VIDEO_CODECS:
        raise ValueError(f"{path}: unsupported video suffix {path.suffix!r}; expected one of {sorted(VIDEO_CODECS)}")
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*VIDEO_CODECS[path.suffix]), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(
            f"{path}: OpenCV cannot open a {VIDEO_CODECS[path.suffix]!r} writer; "
            "check that opencv-python-headless was built with FFmpeg, or write .avi (MJPG) instead"
        )
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def read_video_frames(path):
    """All frames of a video as a (num_frames, height, width, 3) uint8 RGB array."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FileNotFoundError(f"{path}: OpenCV cannot open this video")
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    return np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8)
