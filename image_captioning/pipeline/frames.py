"""The records that travel between pipeline stages: a decoded frame, an encoded batch, an item's state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from image_captioning.pipeline.clips import EncodedFrame
from image_captioning.results import Caption, VideoSegment

PLACEHOLDER_ITEM = -1  # item index of the filler rows that complete a partial batch


@dataclass(frozen=True)
class Frame:
    """One decoded image or sampled video frame on its way to the encoder.

    Args:
        image: uint8 RGB (H, W, 3).
        item_index: position of the input it belongs to.
        slot: position of the frame within its item.
        total: frames of the item, known on its last frame; -1 before.
        timestamp, start, end: for video frames, the frame's time and the span it stands for (seconds).
        frame_index: for video frames, the index of the decoded frame.

    Example:
        >>> Frame(np.zeros((4, 4, 3), np.uint8), item_index=0, slot=0, total=1).to_element()["total"]
        1
    """

    image: np.ndarray
    item_index: int
    slot: int
    total: int
    timestamp: float = 0.0
    start: float = 0.0
    end: float = 0.0
    frame_index: int = 0

    @classmethod
    def placeholder(cls) -> Frame:
        return cls(np.zeros((1, 1, 3), np.uint8), PLACEHOLDER_ITEM, -1, -1)

    def to_element(self) -> dict:
        """The frame as a tf.data element (see `element_signature`)."""
        return {
            "image": self.image,
            "item_index": self.item_index,
            "slot": self.slot,
            "total": self.total,
            "times": np.array([self.timestamp, self.start, self.end], np.float64),
            "frame_index": self.frame_index,
        }


def element_signature():
    """The `tf.data` signature of `Frame.to_element()`."""
    import tensorflow as tf

    return {
        "image": tf.TensorSpec((None, None, 3), tf.uint8),
        "item_index": tf.TensorSpec((), tf.int64),
        "slot": tf.TensorSpec((), tf.int64),
        "total": tf.TensorSpec((), tf.int64),
        "times": tf.TensorSpec((3,), tf.float64),
        "frame_index": tf.TensorSpec((), tf.int64),
    }


@dataclass
class EncodedBatch:
    """The real (non-placeholder) rows of one batch after the encoder.

    Args:
        item_indices, slots, totals, frame_indices: (B,) int arrays, as in `Frame`.
        times: (B, 3) timestamp, start, end.
        embeddings: (B, E) encoder outputs.
    """

    item_indices: np.ndarray
    slots: np.ndarray
    totals: np.ndarray
    times: np.ndarray
    frame_indices: np.ndarray
    embeddings: np.ndarray

    @classmethod
    def from_rows(cls, batch: dict, rows: np.ndarray, embeddings: np.ndarray) -> EncodedBatch:
        """`batch`: a batched tf.data element as NumPy; `rows`: the mask of real rows."""
        return cls(batch["item_index"][rows], batch["slot"][rows], batch["total"][rows], batch["times"][rows],
                   batch["frame_index"][rows], embeddings)

    def encoded_frame(self, row: int) -> EncodedFrame:
        timestamp, start, end = self.times[row].tolist()
        return EncodedFrame(int(self.slots[row]), self.embeddings[row], timestamp, start, end, int(self.frame_indices[row]))

    def segment(self, row: int, caption: Caption) -> VideoSegment:
        timestamp, start, end = self.times[row].tolist()
        return VideoSegment(start, end, caption, int(self.frame_indices[row]), timestamp)


@dataclass
class ItemState:
    """Everything known about one in-flight item; written by its decoder, then by the caption stage."""

    source: str
    kind: str
    fps: float = 0.0
    duration: float = 0.0
    warnings: list[str] = field(default_factory=list)
    received: int = 0
    total: int = -1
    captions: list[Caption] = field(default_factory=list)
    segments: list[tuple[int, VideoSegment]] = field(default_factory=list)
    frame_embeddings: list[np.ndarray] = field(default_factory=list)
    frames: list[EncodedFrame] = field(default_factory=list)


def mean_frame_embedding(frame_embeddings) -> np.ndarray:
    """The whole-video embedding: the mean of its frames' embeddings, in float64, not re-normalised."""
    return np.mean(np.asarray(frame_embeddings, np.float64), axis=0)
