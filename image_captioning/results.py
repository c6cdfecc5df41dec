"""Result records for captioned images and videos, and the per-item error type.

Every input the pipeline is given produces exactly one record: an `ImageResult`
or a `VideoResult`. When an input cannot be read, the record carries `error`
(a message naming the file, the reason and the fix) instead of captions, so a
single bad file never stops a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ItemError(Exception):
    """A problem with one input that is recorded in its result instead of raised.

    Args:
        source: the file path or description of the input (e.g. `"<array #3>"`).
        reason: what is wrong, in plain words.
        fix: what the user can do about it; may be empty.

    Example:
        >>> err = ItemError("cat.jpg", "file is empty (0 bytes)", "re-export the image")
        >>> str(err)
        'cat.jpg: file is empty (0 bytes); re-export the image'
    """

    def __init__(self, source: str, reason: str, fix: str = ""):
        self.source = str(source)
        self.reason = reason
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.source}: {self.reason}"
        return f"{text}; {self.fix}" if self.fix else text


@dataclass
class Caption:
    """One generated caption.

    Args:
        text: the decoded caption.
        score: the generator's score for it (e.g. mean log-probability); higher is better.
        token_ids: the GPT-2 token ids the text was decoded from.

    Example:
        >>> Caption("a cat on a sofa", -0.42, [64, 3797, 319, 257, 34902]).text
        'a cat on a sofa'
    """

    text: str
    score: float
    token_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"text": self.text, "score": float(self.score), "token_ids": [int(t) for t in self.token_ids]}


@dataclass
class ImageResult:
    """Captions for one image, or the reason it could not be captioned.

    Args:
        source: file path or description of the input.
        captions: candidate captions, best first (empty when `error` is set).
        error: message naming the file, the reason and the fix; None on success.

    Example:
        >>> r = ImageResult("cat.jpg", [Caption("a cat", -0.3, [64, 3797])])
        >>> r.ok, r.caption.text
        (True, 'a cat')
    """

    source: str
    captions: list[Caption] = field(default_factory=list)
    error: str | None = None

    kind = "image"

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def caption(self) -> Caption | None:
        """The best caption, or None when there is none."""
        return self.captions[0] if self.captions else None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "ok": self.ok,
            "captions": [c.to_dict() for c in self.captions],
            "error": self.error,
        }


@dataclass
class VideoSegment:
    """The caption of one sampled frame and the time span it stands for.

    Args:
        start: start of the span, seconds from the beginning of the video.
        end: end of the span, seconds.
        caption: best caption of the sampled frame.
        frame_index: 0-based index of the decoded frame that was captioned.
        timestamp: time of that frame, seconds (inside [start, end]).

    Example:
        >>> VideoSegment(0.0, 2.5, Caption("a street", -0.5, []), 12, 1.2).end
        2.5
    """

    start: float
    end: float
    caption: Caption
    frame_index: int
    timestamp: float | None = None

    def to_dict(self) -> dict:
        return {
            "start": float(self.start),
            "end": float(self.end),
            "frame_index": int(self.frame_index),
            "timestamp": None if self.timestamp is None else float(self.timestamp),
            "caption": self.caption.to_dict(),
        }


@dataclass
class VideoResult:
    """Per-segment captions and a whole-video caption for one video.

    Args:
        source: the video file path.
        segments: one entry per sampled frame (or per detected shot), in time order.
        caption: caption of the mean of all sampled frames' embeddings; None on error.
        fps: frame rate reported by the container (0.0 when unknown).
        duration: duration in seconds, measured from decoded timestamps when available.
        error: message naming the file, the reason and the fix; None on success.
        warnings: non-fatal problems (e.g. the file looks truncated but some frames decoded).

    Example:
        >>> seg = VideoSegment(0.0, 4.0, Caption("people walking", -0.6, []), 20)
        >>> r = VideoResult("walk.mp4", [seg], Caption("people walking", -0.5, []), 10.0, 4.0)
        >>> r.ok, len(r.segments)
        (True, 1)
    """

    source: str
    segments: list[VideoSegment] = field(default_factory=list)
    caption: Caption | None = None
    fps: float = 0.0
    duration: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    kind = "video"

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "ok": self.ok,
            "caption": None if self.caption is None else self.caption.to_dict(),
            "fps": float(self.fps),
            "duration": float(self.duration),
            "segments": [s.to_dict() for s in self.segments],
            "error": self.error,
            "warnings": list(self.warnings),
        }


Result = ImageResult | VideoResult

