"""Captions -> fixed-length token arrays whose padding mask comes from caption lengths.

The official loader recomputed its mask from token values after padding them in place, so from
the second epoch on every position counted as real text (its issue #34). Here the mask and the
labels are computed once from the true lengths and never change.
"""

import numpy as np

from image_captioning.training.caption_loss import IGNORED_TOKEN


def tokenize_captions(tokenizer, captions, max_length, end_token_id=None):
    """Returns (token_ids, labels, padding_mask), each (len(captions), max_length) int32.

    token_ids are padded with 0 (any id works: padding is masked), labels with IGNORED_TOKEN.
    `end_token_id`, when given, is appended so the model learns where to stop.
    """
    token_ids = np.zeros((len(captions), max_length), dtype=np.int32)
    padding_mask = np.zeros((len(captions), max_length), dtype=np.int32)
    for row, ids in enumerate(tokenizer(list(captions))):
        ids = list(ids) + ([end_token_id] if end_token_id is not None else [])
        ids = ids[:max_length]
        token_ids[row, : len(ids)] = ids
        padding_mask[row, : len(ids)] = 1
    labels = np.where(padding_mask == 1, token_ids, IGNORED_TOKEN).astype(np.int32)
    return token_ids, labels, padding_mask
