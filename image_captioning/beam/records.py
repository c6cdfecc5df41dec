"""The records that travel between the Beam pipeline's steps: a frame's key, a video's facts, an error."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from image_captioning.results import Caption, VideoSegment


@dataclass(frozen=True)
class FrameKey:
    """Where one preprocessed frame comes from; the key its pixels carry through RunInference.

    Args:
        source: the file's path as the filesystem names it (e.g. `gs://bucket/a.jpg` or `/data/a.jpg`).
        kind: "image" or "video".
        slot: position of the frame in its video (0 for an image).
        timestamp, start, end: for video frames, the frame's time and the span it stands for (seconds).
        frame_index: for video frames, the index of the decoded frame.

    Example:
        >>> FrameKey("/data/tree.avi", "video", 2, 1.3, 1.0, 1.6, 13).segment(Caption("a tree", -0.5, [])).end
        1.6
    """

    source: str
    kind: str
    slot: int = 0
    timestamp: float = 0.0
    start: float = 0.0
    end: float = 0.0
    frame_index: int = 0

    def segment(self, caption: Caption) -> VideoSegment:
        return VideoSegment(self.start, self.end, caption, self.frame_index, self.timestamp)


@dataclass(frozen=True)
class VideoFacts:
    """What decoding a video revealed besides its frames; joined with the captioned frames per video.

    Args:
        source: the video's path.
        frames: how many sampled frames were sent on.
        fps: the container's frame rate (0.0 when unknown).
        duration: seconds, measured when the video was read to the end.
        warnings: non-fatal problems (e.g. the file looks truncated).

    Example:
        >>> VideoFacts("/data/tree.avi", 8, 10.0, 6.8).frames
        8
    """

    source: str
    frames: int
    fps: float
    duration: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ErrorRecord:
    """An input that could not be captioned: a file, or a pattern that matched none.

    Args:
        source: the file's path, or the pattern.
        kind: "image", "video" or "pattern".
        reason: what is wrong, in plain words.
        message: the full message, as `predict` records it in `result.error` (file, reason, fix).

    Example:
        >>> ErrorRecord("/data/notes.jpg", "image", "file is empty (0 bytes)", "...").to_json()[:12]
        '{"source": "'
    """

    source: str
    kind: str
    reason: str
    message: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)
