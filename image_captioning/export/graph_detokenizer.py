"""GPT-2 token ids -> caption bytes in TensorFlow ops only (no tokenizer library at serving time).

GPT-2's vocabulary stores each token's bytes through the byte-to-unicode table; inverting that
table once, at export, turns detokenisation into a gather and a join over a constant of raw
byte strings, so the SavedModel needs no lookup-table resource and no TensorFlow Text ops.
"""

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from image_captioning.tokenizer import END_OF_TEXT, VOCABULARY_FILE


def byte_decoder():
    """The inverse of GPT-2's `bytes_to_unicode`: unicode character -> byte value."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for value in range(256):
        if value not in printable:
            printable.append(value)
            characters.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, characters)}


def token_byte_table(tokenizer_dir):
    """(vocabulary_size + 1,) array of each token's raw bytes; the last entry is b"" (padding),
    and <|endoftext|> is b"" too, as `ClipCap.caption_text` drops it."""
    vocabulary = json.loads((Path(tokenizer_dir) / VOCABULARY_FILE).read_text(encoding="utf-8"))
    decoder = byte_decoder()
    table = [b""] * (max(vocabulary.values()) + 2)
    for token, index in vocabulary.items():
        if token != END_OF_TEXT:
            table[index] = bytes(decoder[c] for c in token)
    return np.array(table, dtype=object)


class GraphDetokenizer:
    """Turns (N, L) token ids and (N,) lengths into (N,) UTF-8 caption strings in the graph.

    Args:
        tokenizer_dir: a folder with GPT-2's `vocab.json` (a model folder or the package assets).

    Example:
    ```python
    detokenize = GraphDetokenizer("pretrained_models/clipcap-coco")
    detokenize(tf.constant([[64, 3797, 13]]), tf.constant([3]))  # [b"a cat."]
    ```
    """

    def __init__(self, tokenizer_dir):
        self.table = token_byte_table(tokenizer_dir)
        self.padding = len(self.table) - 1

    def __call__(self, token_ids, lengths):
        table = tf.constant(self.table, dtype=tf.string)
        columns = tf.range(tf.shape(token_ids)[1])[None, :]
        inside = columns < lengths[:, None]
        ids = tf.where(inside & (token_ids >= 0) & (token_ids < self.padding), token_ids, self.padding)
        text = tf.strings.reduce_join(tf.gather(table, ids), axis=-1)
        return tf.strings.strip(text)
