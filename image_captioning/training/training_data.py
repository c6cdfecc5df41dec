"""Caption training examples in memory, and a deterministic, resumable tf.data stream of batches."""

import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass
class CaptionExamples:
    """One row per (medium, caption) pair.

    Args:
        media: (M, ...) float32, CLIP embeddings or preprocessed images, one row per medium; for a
            temporal model (M, frames, E) clips of frame embeddings.
        media_key: model input the media feed: "clip_embedding" or "images".
        media_index: (N,) row of `media` for each caption.
        token_ids, labels, padding_mask: (N, L) int32 from `tokenize_captions`.
        frame_mask: with clips, (M, frames) float32: 1 for real frames, 0 for padding; else None.
    """

    media: np.ndarray
    media_key: str
    media_index: np.ndarray
    token_ids: np.ndarray
    labels: np.ndarray
    padding_mask: np.ndarray
    frame_mask: "np.ndarray | None" = None

    def __len__(self):
        return len(self.media_index)


def batch_stream(examples, batch_size, seed, start_step=0):
    """Endless stream of (inputs, labels) batches; epoch e's order depends only on (seed, e).

    `start_step` skips that many batches, so a run resumed at step k sees exactly the batches an
    uninterrupted run sees from step k on.
    """
    if len(examples) < batch_size:
        raise ValueError(f"{len(examples)} training captions is fewer than one batch of {batch_size}: lower batch_size.")
    media = tf.constant(examples.media)
    frame_mask = None if examples.frame_mask is None else tf.constant(examples.frame_mask)
    columns = {name: tf.constant(getattr(examples, name)) for name in ("media_index", "token_ids", "labels", "padding_mask")}

    def gather(indices):
        rows = {name: tf.gather(column, indices) for name, column in columns.items()}
        inputs = {
            examples.media_key: tf.gather(media, rows["media_index"]),
            "token_ids": rows["token_ids"],
            "padding_mask": rows["padding_mask"],
        }
        if frame_mask is not None:
            inputs["frame_mask"] = tf.gather(frame_mask, rows["media_index"])
        return inputs, rows["labels"]

    indices = tf.data.Dataset.range(len(examples)).shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
    batches = indices.repeat().batch(batch_size, drop_remainder=True).skip(start_step)
    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
