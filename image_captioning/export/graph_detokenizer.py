"""GPT-2 token ids -> caption bytes in TensorFlow ops only (no tokenizer library at serving time).

GPT-2's vocabulary stores each token's bytes through the byte-to-unicode table; inverting that
table once, at export, turns detokenisation into a gather and a join over a constant of raw
byte strings, so the SavedModel needs no lookup-table resource and no TensorFlow Text ops.
"""

import numpy as np
import tensorflow as tf

from image_captioning.tokenizer import read_vocabulary, token_byte_table


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
        self.table = np.array(token_byte_table(read_vocabulary(tokenizer_dir)), dtype=object)
        self.padding = len(self.table) - 1

    def __call__(self, token_ids, lengths):
        table = tf.constant(self.table, dtype=tf.string)
        columns = tf.range(tf.shape(token_ids)[1])[None, :]
        inside = columns < lengths[:, None]
        ids = tf.where(inside & (token_ids >= 0) & (token_ids < self.padding), token_ids, self.padding)
        text = tf.strings.reduce_join(tf.gather(table, ids), axis=-1)
        return tf.strings.strip(text)
