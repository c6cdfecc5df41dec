"""`ClipCap` -> one TensorFlow SavedModel: encoded images in, caption strings out.

The `serving_default` signature holds the whole of `ClipCap.predict` for images: decoding and
CLIP preprocessing (`graph_images`), the image encoder, the mapper, the cached greedy or beam
loop (`generation.search` over `generation.kv_cache.LayerCacheForward`, a `tf.while_loop`) and
detokenisation (`graph_detokenizer`). Loading it needs TensorFlow only.
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from image_captioning.export.graph_detokenizer import GraphDetokenizer
from image_captioning.export.graph_images import preprocess_encoded_images
from image_captioning.generation.config import MAX_STOP_TOKENS, GenerationConfig
from image_captioning.generation.kv_cache import LayerCacheForward
from image_captioning.generation.search import decode_beams, decode_sequences

EXPORTABLE_STRATEGIES = ("greedy", "beam")
INPUT_NAME = "images"


def export_config(captioner, **generation):
    """The `GenerationConfig` baked into the export: the model's defaults, then `generation`."""
    config = GenerationConfig(**captioner.generation_options(**generation))
    if config.strategy not in EXPORTABLE_STRATEGIES:
        raise ValueError(
            f"strategy={config.strategy!r} cannot be exported: a SavedModel decodes with one of "
            f"{EXPORTABLE_STRATEGIES}; pass strategy='greedy' or strategy='beam' to export()."
        )
    if not config.use_cache:
        raise ValueError("use_cache=False is for verification only and cannot be exported; drop it.")
    total = captioner.model.mapper.prefix_length + config.max_length
    if total > captioner.model.decoder.max_sequence_length:
        raise ValueError(
            f"prefix_length + max_length = {total} exceeds GPT-2's {captioner.model.decoder.max_sequence_length} "
            "positions; pass a smaller max_length to export()."
        )
    return config


def build_caption_function(captioner, config, max_short_side=1024):
    """`fn(images: (N,) tf.string) -> dict` of captions (N,), scores (N,), token_ids (N, L), lengths (N,)."""
    model = captioner.model
    if model.image_encoder is None:
        raise ValueError("This model has no image encoder (it captions CLIP embeddings only), so it cannot take images.")
    forward = LayerCacheForward(model.decoder)
    detokenize = GraphDetokenizer(captioner.tokenizer_dir)
    resolution = captioner.resolution
    stop_tokens = np.full((MAX_STOP_TOKENS,), -1, "int32")
    stop_tokens[: len(config.stop_tokens)] = config.stop_tokens
    temperature = np.float32(config.temperature)

    def caption(images):
        pixels = preprocess_encoded_images(images, resolution, max_short_side)
        embeddings = tf.cast(model.image_encoder(pixels), tf.float32)
        prefix = model.embed_prefix(embeddings)
        valid = tf.ones(tf.shape(images)[:1], tf.bool)
        if config.strategy == "beam":
            token_ids, lengths, scores = decode_beams(
                forward, prefix, valid, temperature, tf.constant(stop_tokens), config.max_length, config.num_beams
            )
            best = tf.argmax(scores, axis=1, output_type=tf.int32)  # first of equal scores, as predict's stable sort
            token_ids = tf.gather(token_ids, best, axis=1, batch_dims=1)
            lengths = tf.gather(lengths, best, axis=1, batch_dims=1)
            scores = tf.gather(scores, best, axis=1, batch_dims=1)
        else:
            token_ids, lengths, scores = decode_sequences(
                forward, prefix, valid, None, temperature, None, None, tf.constant(stop_tokens), config.max_length, 1,
                sample=False,
            )
        columns = tf.range(config.max_length)[None, :]
        token_ids = tf.where(columns < lengths[:, None], token_ids, -1)
        return {
            "captions": detokenize(token_ids, lengths),
            "scores": tf.cast(scores, tf.float32),
            "token_ids": token_ids,
            "lengths": lengths,
        }

    return caption


def export_saved_model(captioner, path, max_short_side=1024, **generation):
    """Writes `captioner` as a SavedModel at `path` and returns the path.

    Args:
        captioner: a `ClipCap`.
        path: the SavedModel folder to write.
        max_short_side: images whose short side is larger are area-reduced first (as predict does).
        **generation: greedy or beam options fixed at export (strategy, num_beams, max_length,
            stop_tokens, temperature); the model's defaults fill the rest.
    """
    config = export_config(captioner, **generation)
    caption = build_caption_function(captioner, config, max_short_side)
    archive = keras.export.ExportArchive()
    archive.track(captioner.model)
    archive.add_endpoint(
        "serving_default", caption, input_signature=[tf.TensorSpec((None,), tf.string, name=INPUT_NAME)]
    )
    path = Path(path)
    archive.write_out(str(path), verbose=False)
    return path
