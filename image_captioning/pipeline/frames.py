"""The records that travel between pipeline stages: a decoded frame, an encoded batch, an item's state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from image_captioning.media.frame_sampling import SampledFrame
from image_captioning.pipeline.clips import EncodedFrame
from image_captioning.results import Caption, VideoSegment

PLACEHOLDER_ITEM = -1  # item index of the filler rows that complete a partial batch


@dataclass(frozen=True)
class Frame:
    """One decoded image or sampled video frame on its way to the encoder.

    Args:
        item_index: position of the input it belongs to.
        slot: position of the frame within its item.
        total: frames of the item, known on its last frame; -1 before.
        sampled: the pixels, and for a video frame its time, span and index (`SampledFrame.still` for an image).

    Example:
        >>> Frame(0, slot=0, total=1, sampled=SampledFrame.still(np.zeros((4, 4, 3), np.uint8))).to_element()["total"]
        1
    """

    item_index: int
    slot: int
    total: int
    sampled: SampledFrame

    @classmethod
    def placeholder(cls) -> Frame:
        return cls(PLACEHOLDER_ITEM, -1, -1, SampledFrame.still(np.zeros((1, 1, 3), np.uint8)))

    def to_element(self) -> dict:
        """The frame as a tf.data element (see `element_signature`)."""
        s = self.sampled
        return dict(image=s.image, item_index=self.item_index, slot=self.slot, total=self.total,
                    times=np.array([s.timestamp, s.start, s.end], np.float64), frame_index=s.frame_index)


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
