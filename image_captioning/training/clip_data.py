"""Image-caption pairs for contrastive training, and a shuffled tf.data stream of batches.

A batch holds distinct images, each with one of its captions drawn at random, so that a dataset
with several captions per image (COCO) gives no batch two positives for one image.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from image_captioning.media.images import load_image
from image_captioning.media.clip_preprocessing import clip_preprocess_numpy
from image_captioning.training.caption_tokens import tokenize_captions
from image_captioning.training.hard_negatives import caption_neighbours, grouped_batches


@dataclasses.dataclass
class PairExamples:
    """Preprocessed images and their tokenized captions.

    Args:
        images: (M, R, R, 3) float32 CLIP-preprocessed images.
        token_ids: (N, L) int32 caption tokens, each ending with the end-of-text id.
        first_caption: (M,) row in `token_ids` of each image's first caption.
        caption_count: (M,) number of captions of each image.
        captions: the N caption texts.
    """

    images: np.ndarray
    token_ids: np.ndarray
    first_caption: np.ndarray
    caption_count: np.ndarray
    captions: list

    def __len__(self):
        return len(self.images)


def pair_examples(records, tokenizer, resolution, max_length, end_token):
    """PairExamples of image records (videos are skipped: CLIP here trains on still images)."""
    records = [record for record in records if record.media_kind == "image" and record.captions]
    images = np.stack([clip_preprocess_numpy(load_image(record.media_path), resolution) for record in records])
    captions = [caption for record in records for caption in record.captions]
    token_ids, _, padding_mask = tokenize_captions(tokenizer, captions, max_length, end_token)
    # A caption cut at max_length keeps its end token: the text encoder reads out there.
    token_ids[padding_mask.sum(axis=1) == max_length, -1] = end_token
    counts = np.array([len(record.captions) for record in records], dtype=np.int32)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    return PairExamples(images.astype(np.float32), token_ids, first, counts, captions)


def pair_stream(examples, batch_size, seed, hard_negative_group=None, num_batches=None):
    """({"images", "token_ids"}, dummy labels) batches; the order depends only on the seed.

    Random batches by default (endless); with `hard_negative_group`, `num_batches` batches made of
    groups of that many look-alike captions (see `hard_negatives`).
    """
    if len(examples) < batch_size:
        raise ValueError(f"{len(examples)} training images is fewer than one batch of {batch_size}: lower batch_size.")
    images = tf.constant(examples.images)
    token_ids = tf.constant(examples.token_ids)
    first = tf.constant(examples.first_caption)
    count = tf.constant(examples.caption_count)

    def gather(indices, step):
        draw = tf.random.stateless_uniform(tf.shape(indices), seed=tf.stack([tf.cast(seed, tf.int64), step]))
        picked = tf.gather(first, indices) + tf.cast(draw * tf.cast(tf.gather(count, indices), tf.float32), tf.int32)
        inputs = {"images": tf.gather(images, indices), "token_ids": tf.gather(token_ids, picked)}
        return inputs, tf.zeros(tf.shape(indices)[:1])

    if hard_negative_group:
        first_captions = examples.token_ids[examples.first_caption]
        neighbours = caption_neighbours(first_captions, 4 * hard_negative_group)
        keys = [examples.captions[row] for row in examples.first_caption]
        grouped = grouped_batches(keys, neighbours, batch_size, hard_negative_group, num_batches, np.random.default_rng(seed))
        batches = tf.data.Dataset.from_tensor_slices(grouped.astype(np.int32))
    else:
        indices = tf.data.Dataset.range(len(examples)).shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
        batches = indices.repeat().batch(batch_size, drop_remainder=True).map(lambda i: tf.cast(i, tf.int32))
    batches = tf.data.Dataset.zip((batches, tf.data.Dataset.range(2**62)))
    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
